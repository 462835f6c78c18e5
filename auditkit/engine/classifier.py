"""Sequence classifiers (BERT/RoBERTa kind): label probabilities for texts.

``HFSequenceClassifier`` wraps a transformers ``AutoModelForSequenceClassification`` model. It also
answers the ``LanguageModel`` methods, each with a clear error, so that a probe written for causal
language models fails with a one-line reason when a suite hands it a classifier. Probes that need
a classifier call ``require_classifier``; those that need a causal LM, ``require_language_model``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, runtime_checkable

from auditkit.engine.base import (
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


class WrongModelTask(TypeError):
    """A probe was given a model of the wrong task (a classifier where it needs a causal LM)."""


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


def require_classifier(model: object, probe_kind: str) -> SequenceClassifier:
    """``model`` as a classifier, or ``WrongModelTask`` saying what the probe needs."""
    if not isinstance(model, SequenceClassifier):
        raise WrongModelTask(
            f"{probe_kind} needs a sequence classifier (task: sequence-classification) or a "
            f"'scorer'; {getattr(model, 'name', type(model).__name__)} is a causal language model"
        )
    return model


def require_language_model(model: object, probe_kind: str) -> None:
    """Raise ``WrongModelTask`` when ``model`` is a classifier rather than a causal LM."""
    if isinstance(model, SequenceClassifier):
        raise WrongModelTask(
            f"{probe_kind} needs a causal language model; {model.name} is a sequence classifier "
            "(task: sequence-classification)"
        )


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

    # -- the LanguageModel methods: a classifier has none of them ------------------------------

    def _not_a_language_model(self) -> NoReturn:
        raise WrongModelTask(
            f"{self._name} is a sequence classifier (task: sequence-classification); this probe "
            "needs a causal language model"
        )

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        self._not_a_language_model()

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        self._not_a_language_model()

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        self._not_a_language_model()

    def format_chat(self, user_message: str) -> str:
        self._not_a_language_model()
