"""Sequence classifiers (BERT/RoBERTa kind, task ``text-classification``): label probabilities.

Probes see only ``SequenceClassifier`` and reach it through
``engine_as(engine, SequenceClassifier, kind)`` (``ProbeContext.engine_as``), which names the
mismatch in one line when a suite pairs a probe with a model of another task.

The engine, ``HFSequenceClassifier`` (a transformers ``AutoModelForSequenceClassification``
model), lives in ``engine/classifier_hf.py`` and is importable from here too; it is imported only
when asked for, so that naming the interface never imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from auditkit.engine.base import ProgressCallback, WrongModelTask, describe_interface, engine_as

if TYPE_CHECKING:
    from auditkit.engine.classifier_hf import HFSequenceClassifier


@runtime_checkable
class SequenceClassifier(Protocol):
    """What probes may ask of a sequence classifier."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> list[str]:
        """Output labels in the model's order."""
        ...

    def classify(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[dict[str, float]]:
        """Per text, the probability of every label (softmax, or sigmoid for multi-label)."""
        ...


describe_interface(SequenceClassifier, "a sequence classifier (task: text-classification)")


def require_classifier(model: object, probe_kind: str) -> SequenceClassifier:
    """``model`` as a classifier, or ``WrongModelTask`` saying what the probe needs."""
    return engine_as(model, SequenceClassifier, probe_kind)


__all__ = ["HFSequenceClassifier", "SequenceClassifier", "WrongModelTask", "require_classifier"]


def __getattr__(name: str) -> Any:
    # ``HFSequenceClassifier`` on first use: its module imports torch and transformers.
    if name == "HFSequenceClassifier":
        from auditkit.engine.classifier_hf import HFSequenceClassifier

        return HFSequenceClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
