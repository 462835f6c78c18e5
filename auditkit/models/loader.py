"""Load a suite's candidate model into a ``LoadedModel``: engine + measured ``ModelInfo``.

The build of each (task, runtime) pair is registered in ``BUILDERS`` by one module of
``auditkit/models/families/`` (discovered, not listed): a new model family or runtime is one new
module there. Heavy imports (torch, transformers, peft…) happen in those modules, when a model is
loaded, never at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from auditkit.engine.mock import MockModel
from auditkit.errors import ModelLoadError
from auditkit.models.loaded import LoadedModel, resolve_device
from auditkit.models.spec import ModelSpec
from auditkit.registry import Registry
from auditkit.results import ModelInfo

Builder = Callable[[ModelSpec, str, float], LoadedModel]
"""``build(spec, device, started)``: load ``spec`` on the resolved ``device``; ``started`` is the
``time.perf_counter()`` reading when loading began (for ``ModelInfo.load_seconds``)."""

BUILDERS: Registry[Builder] = Registry("model build", home="auditkit.models.families")
"""``"<task> on <runtime>"`` → the function that loads such a model."""

__all__ = ["BUILDERS", "LoadedModel", "builder_name", "load_model", "register_builder"]


def builder_name(task: str, runtime: str) -> str:
    return f"{task} on {runtime}"


def register_builder(task: str, runtime: str) -> Callable[[Builder], Builder]:
    """Decorator: ``fn`` loads models of ``task`` on ``runtime``."""
    return BUILDERS.register(builder_name(task, runtime))


def load_model(spec: ModelSpec, device: str) -> LoadedModel:
    """Load ``spec`` on ``device``; raises ``ModelLoadError`` with a one-line reason."""
    started = time.perf_counter()
    source = spec.parsed_source
    if source.kind == "mock":
        engine = MockModel(behaviour=source.target)
        info = ModelInfo(
            source=spec.source,
            resolved=source.target,
            architecture="mock",
            parameters=0,
            bytes_on_disk=0,
            license=spec.license,
            license_source="suite" if spec.license else None,
            dtype="none",
            device="cpu",
            load_seconds=time.perf_counter() - started,
        )
        return LoadedModel(spec, engine, info)
    name = builder_name(spec.model_task, spec.runtime)
    if name not in BUILDERS:
        raise ModelLoadError(f"auditkit cannot load {name} models")
    try:
        return BUILDERS[name](spec, resolve_device(device), started)
    except ModelLoadError:
        raise
    except Exception as exc:  # any failure inside transformers/peft/torch is a load error
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{type(exc).__name__}: {message}") from exc
