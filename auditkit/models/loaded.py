"""A loaded model: its engine (the interface of its task), what was measured, what to free."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from auditkit.engine.mock import MockModel
from auditkit.models.spec import ModelSpec
from auditkit.results import ModelInfo


@dataclass
class LoadedModel:
    spec: ModelSpec
    engine: Any
    """The engine, behind the interface of the model's task (``auditkit.tasks``)."""
    info: ModelInfo
    _release: list[Any] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Drop the weights and give memory back (GPU memory included) before the next model.

        Reference counting frees a transformers model as soon as the last reference goes; a full
        garbage collection (a quarter of a second with transformers imported) runs only when
        something still holds the model after that, e.g. a reference cycle.
        """
        import weakref

        weights = getattr(self.engine, "model", self.engine)
        try:
            watch: weakref.ref[Any] | None = weakref.ref(weights)
        except TypeError:  # not weak-referenceable: collect to be safe
            watch = None
        del weights
        self._release.clear()
        self.engine = MockModel()
        if "torch" not in sys.modules:  # a mock model: nothing to free
            return
        import gc

        import torch

        if watch is None or watch() is not None:
            gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def resolve_device(requested: str) -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
