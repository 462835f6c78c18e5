"""``classification``: how well a text classifier labels a labelled set, and how well it knows it.

For ``text-classification`` models. The data is the user's own labelled texts (JSONL or CSV; see
``auditkit.probes._labelled_texts``) or auditkit's sentiment reviews; ``label_map`` renames the
data's labels to the model's. Besides the metrics, the probe writes the confusion matrix as one
summary sample (``item_id`` ``confusion_matrix``, after the texts' samples) in ``samples.jsonl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from auditkit.engine.classifier import SequenceClassifier
from auditkit.probes._classification_metrics import Outcome, classification_metrics
from auditkit.probes._labelled_texts import LabelledText, read_labelled_texts
from auditkit.probes.base import (
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.probes.dataset import builtin_data

BUILTIN_DATA = "data/classification/sentiment_reviews.jsonl"
CONFUSION_ITEM = "confusion_matrix"
"""``item_id`` of the summary sample that carries the confusion matrix."""


class ClassificationSpec(ProbeSpec):
    kind: Literal["classification"]
    data: SuitePath | None = Field(
        None,
        description="Labelled texts: JSONL, or CSV with a header row (by the .csv extension), "
        "with a text and a label column, optional group and id columns. Default: auditkit's "
        "sentiment reviews (60 texts, labels negative/positive, groups food, electronics, "
        "travel).",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N texts.")
    text_field: str = Field("text", min_length=1, description="Column holding the text.")
    label_field: str = Field("label", min_length=1, description="Column holding the gold label.")
    group_field: str | None = Field(
        "group",
        min_length=1,
        description="Optional column naming each text's slice (domain, dialect…) for per-slice "
        "accuracy; null: no slices. Texts with no value are in no slice.",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="Data label → the model's label name (its id2label), e.g. {'0': NEGATIVE, "
        "'1': POSITIVE}; labels not listed must already be model labels.",
    )

    @field_validator("label_map", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        # YAML reads `0: NEGATIVE` with an integer key; data labels are compared as text.
        if isinstance(value, dict):
            return {str(k): str(v) if isinstance(v, int | float) else v for k, v in value.items()}
        return value


@register_probe
class Classification(Probe[ClassificationSpec]):
    """Accuracy, macro scores, per-class scores and calibration of a text classifier.

    Per text i with gold label y_i (after ``label_map``) and the model's probabilities p_i over
    its labels: the prediction ŷ_i = argmax_k p_ik (the first label in the model's order on a
    tie) and the confidence c_i = max_k p_ik. The classes C are the gold labels present in the
    data, in the model's label order; for a class k: TP_k = #{ŷ = y = k}, P_k = TP_k /
    #{ŷ = k} and R_k = TP_k / #{y = k} (0 when the denominator is 0, scikit-learn's
    ``zero_division=0``), F1_k = 2 TP_k / (#{ŷ = k} + #{y = k}). Predictions of a model label
    outside C count as errors of the gold class and add no class to the averages.

    - ``accuracy`` = share of texts with ŷ_i = y_i. Higher is better; [0, 1]; Wilson interval;
      per item ``correct`` (so paired gates use the exact McNemar test).
    - ``macro_f1``, ``macro_precision``, ``macro_recall`` = the unweighted means over C of F1_k,
      P_k, R_k (scikit-learn ``average="macro"``). Higher is better; [0, 1]; percentile
      bootstrap over texts (1000 resamples, seeded).
    - per class (metric ``group`` = the class): ``precision`` = P_k (Wilson over the n texts
      predicted k; no value when none is), ``recall`` = R_k (Wilson over the n texts of class k),
      ``f1`` = F1_k (bootstrap over texts). Higher is better; [0, 1].
    - ``ece`` = expected calibration error of the top-class probability: Σ_b (n_b / n)
      |acc_b − conf_b| over 15 equal-width bins of c_i ([0, 1/15), …, [14/15, 1], bin
      min(⌊15 c⌋, 14)), acc_b and conf_b the mean correctness and confidence of bin b. Lower is
      better; [0, 1]; bootstrap over texts.
    - ``brier`` = mean over texts of Σ_k (p_ik − [y_i = k])² over all the model's labels (the
      multi-class Brier score of the predicted distribution). Lower is better; [0, 2] for
      probabilities that sum to 1; bootstrap; per item ``brier``. (A multi-label model's
      independent sigmoid probabilities are taken as they are.)
    - per slice (metric ``group`` = the ``group_field`` value): ``accuracy`` on that slice's
      texts. Higher is better; Wilson.
    - ``accuracy_group_gap`` (with two slices or more) = the largest minus the smallest slice
      accuracy. Lower is better; [0, 1]; bootstrap over texts (slices missing from a resample
      are left out of it). A largest-minus-smallest is biased upward under resampling, so with
      near-equal slices the interval can lie above the estimate.
    """

    kind = "classification"
    Spec = ClassificationSpec
    tasks = ("text-classification",)
    charts = ("per_group", "confusion_matrix")  # per-class scores, per-slice accuracy, errors

    @property
    def data_path(self) -> Path:
        return self.spec.data if self.spec.data is not None else builtin_data(BUILTIN_DATA)

    def data_files(self) -> list[Path]:
        return [self.data_path]

    def items(self) -> list[LabelledText]:
        spec = self.spec
        items = read_labelled_texts(
            self.data_path,
            text_field=spec.text_field,
            label_field=spec.label_field,
            group_field=spec.group_field,
            group_required="group_field" in spec.model_fields_set,
        )
        return items[: spec.limit] if spec.limit else items

    def check_data(self) -> None:
        self.items()

    def known_metrics(self) -> dict[str, bool]:
        return {
            "accuracy": True,
            "macro_f1": False,
            "macro_precision": False,
            "macro_recall": False,
            "ece": False,
            "brier": True,
            "accuracy_group_gap": False,
        }

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        classifier = ctx.engine_as(SequenceClassifier, self.kind)
        labels = classifier.labels
        gold = [self.spec.label_map.get(item.label, item.label) for item in items]
        unknown = sorted(set(gold) - set(labels))
        if unknown:
            raise ValueError(
                f"{self.data_path}: the data's labels {', '.join(sorted(set(gold)))} include "
                f"{', '.join(unknown)}, which {classifier.name} does not have (its labels: "
                f"{', '.join(labels)}); map them with label_map"
            )
        ctx.set_total(len(items))
        probabilities = classifier.classify([item.text for item in items], progress=ctx.advance)
        scores = np.array([[p[label] for label in labels] for p in probabilities], dtype=float)
        truth = np.array([labels.index(g) for g in gold], dtype=int)
        predicted = scores.argmax(axis=1)
        outcome = Outcome(labels, truth, predicted, scores, [item.group for item in items])
        samples = [
            _sample(item, labels, gold_label, outcome, i)
            for i, (item, gold_label) in enumerate(zip(items, gold, strict=True))
        ]
        samples.append(_confusion_sample(outcome))
        return ProbeOutput(classification_metrics(outcome, seed=ctx.seed), samples)


def _sample(item: LabelledText, labels: list[str], gold: str, outcome: Outcome, i: int) -> Sample:
    probabilities = dict(zip(labels, outcome.probabilities[i].tolist(), strict=True))
    details: dict[str, object] = {"probabilities": probabilities}
    if item.group:
        details["group"] = item.group
    if gold != item.label:
        details["data_label"] = item.label
    return Sample(
        item_id=item.id,
        input=item.text,
        output=labels[int(outcome.predicted[i])],
        target=gold,
        scores={
            "correct": float(outcome.correct[i]),
            "p_gold": probabilities[gold],
            "confidence": float(outcome.confidence[i]),
            "brier": float(outcome.brier[i]),
        },
        details=details,
    )


def _confusion_sample(outcome: Outcome) -> Sample:
    """The confusion matrix as one summary sample: ``details`` holds ``labels`` (every label that
    occurs as gold or predicted, in the model's order) and ``matrix`` (rows gold, columns
    predicted). It has no scores and an empty output, so it is in no metric, and paired
    comparisons never count it as a changed answer."""
    from sklearn.metrics import confusion_matrix

    shown = sorted(set(outcome.truth.tolist()) | set(outcome.predicted.tolist()))
    names = [outcome.labels[k] for k in shown]
    matrix = confusion_matrix(outcome.truth, outcome.predicted, labels=shown).tolist()
    return Sample(
        item_id=CONFUSION_ITEM,
        input=f"confusion matrix of {outcome.n} texts: rows gold, columns predicted "
        f"({', '.join(names)})",
        output="",
        target="",
        scores={},
        details={"labels": names, "matrix": matrix},
    )
