"""Sequence classifiers (BERT/RoBERTa kind, task ``text-classification``): label probabilities.

``HFSequenceClassifier`` wraps a transformers ``AutoModelForSequenceClassification`` model. It
offers only the ``SequenceClassifier`` interface: a probe reaches it through
``engine_as(engine, SequenceClassifier, kind)`` (``ProbeContext.engine_as``), which names the
mismatch in one line when a suite pairs a probe with a model of another task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from auditkit.engine.base import ProgressCallback, WrongModelTask, describe_interface, engine_as

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


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


class HFSequenceClassifier:
    """A ``SequenceClassifier`` over a transformers sequence-classification model."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        batch_size: int = 32,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._name = name
        self.batch_size = batch_size
        config: Any = model.config
        if getattr(config, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
            # Decoder-style classifiers find each row's last token through the pad id.
            config.pad_token_id = tokenizer.pad_token_id
        count = int(config.num_labels)
        id2label = getattr(config, "id2label", None) or {}
        self._labels = [str(id2label.get(i, f"LABEL_{i}")) for i in range(count)]
        self._multi_label = config.problem_type == "multi_label_classification"

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def max_length(self) -> int:
        config = self.model.config
        value = getattr(config, "max_position_embeddings", None)
        return value if isinstance(value, int) and value > 0 else 512

    def classify(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[dict[str, float]]:
        import torch

        device = next(self.model.parameters()).device
        results: list[dict[str, float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            inputs = self.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(device)
            with torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            probs = torch.sigmoid(logits) if self._multi_label else torch.softmax(logits, dim=-1)
            results += [dict(zip(self._labels, row, strict=True)) for row in probs.tolist()]
            if progress:
                progress(len(batch))
        return results
