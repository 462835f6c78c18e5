"""A scorer from a local transformers sequence-classification model (e.g. a sentiment model)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, model_validator

from auditkit.engine.classifier import HFSequenceClassifier
from auditkit.files import SuitePath
from auditkit.scorers._base import ModelScorerSpec, Scorer, register_scorer


class ClassifierSpec(ModelScorerSpec):
    """Options of the ``classifier`` scorer."""

    path: SuitePath | None = Field(
        None, description="A local transformers sequence-classification folder (required)."
    )
    label: str | None = Field(
        None, description="The label whose probability is the score (default: the last label)."
    )

    @model_validator(mode="after")
    def _has_path(self) -> ClassifierSpec:
        if self.path is None:
            raise ValueError("the 'classifier' scorer needs 'path': a local model folder")
        return self


@register_scorer("classifier", params=ClassifierSpec)
class ClassifierScorer(Scorer):
    """The probability the classifier at ``path`` gives to ``label`` (default: its last label,
    the positive class of a binary classifier)."""

    name = "classifier"

    def __init__(self, spec: ClassifierSpec) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        assert spec.path is not None  # ClassifierSpec requires it
        tokenizer = AutoTokenizer.from_pretrained(spec.path)
        model = AutoModelForSequenceClassification.from_pretrained(
            spec.path, use_safetensors=True
        ).to(spec.device)
        self.engine = HFSequenceClassifier(
            model, tokenizer, name=spec.path.name, batch_size=spec.batch_size
        )
        labels = self.engine.labels
        self.label = spec.label if spec.label is not None else labels[-1]
        if self.label not in labels:
            raise ValueError(f"{spec.path}: no label {self.label!r}; labels: {', '.join(labels)}")
        self.version = f"{spec.path.name} ({self.label})"

    def score(self, texts: Sequence[str]) -> list[float]:
        return [probs[self.label] for probs in self.engine.classify(texts)]
