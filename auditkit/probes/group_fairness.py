"""``bias.group_fairness``: does a classifier's decision depend on the group a text mentions?

For text-classification candidates (``task: text-classification``), or, with ``scorer``,
for a scorer itself (e.g. the toxicity scorer other probes rely on: does it flag "I am a gay man"?).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from auditkit.engine.classifier import SequenceClassifier
from auditkit.probes._fairness import classifier_gaps
from auditkit.probes._rates import by_group, proportion
from auditkit.probes.base import (
    ProbeContext,
    ProbeOutput,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.probes.dataset import DatasetProbe, DatasetSpec
from auditkit.results import Metric
from auditkit.scorers import ScorerField, build_scorer
from auditkit.tasks import ALL_TASKS, Task


class LabelledText(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    text: str = Field(min_length=1)
    label: Literal[0, 1]
    group: str = "none"
    category: str = "none"


class GroupFairnessSpec(DatasetSpec):
    kind: Literal["bias.group_fairness"]
    data: SuitePath | None = Field(
        None,
        description="JSONL of {id, text, label (1 = positive class), group, category}; default: "
        "auditkit's identity-mention set (132 sentences).",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N items.")
    sensitive_feature: Literal["category", "group"] = Field(
        "category", description="Which field defines the groups compared."
    )
    positive_label: str | None = Field(
        None,
        description="The classifier label that means the positive class (e.g. 'toxic'); default: "
        "its last label.",
    )
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="Flag when P(positive) ≥ this.")
    scorer: ScorerField | None = Field(
        None,
        description="Audit this scorer instead of the candidate model (its score is P(positive)); "
        "the candidate is then not used.",
    )


@register_probe
class GroupFairness(DatasetProbe[GroupFairnessSpec, LabelledText]):
    """Group fairness of binary decisions on labelled texts that mention groups.

    A text is *flagged* when P(positive label) ≥ ``threshold``. Groups are the values of
    ``sensitive_feature``. With fairlearn:

    - ``demographic_parity_difference`` = max over groups of the flag rate minus the min. Lower is
      better; [0, 1]; row bootstrap interval.
    - ``equalized_odds_difference`` = the larger of the between-group spreads (max - min) of the
      true-positive rate and of the false-positive rate. Lower is better; [0, 1]; row bootstrap.
    - ``accuracy`` = share of texts whose flag equals the label. Higher is better; Wilson.
    - ``false_positive_rate`` = flagged negatives / negatives (overall and per group). Lower is
      better; [0, 1]; Wilson; n = negatives.
    - ``false_negative_rate`` = unflagged positives / positives (overall and per group). Lower is
      better; [0, 1]; Wilson; n = positives.
    - ``flag_rate`` per group = flagged / texts of the group (what demographic parity compares).
      Descriptive; Wilson.
    """

    kind = "bias.group_fairness"
    charts = ("per_group",)
    Spec = GroupFairnessSpec
    Item = LabelledText
    builtin = "data/bias/identity_fairness.jsonl"

    def known_metrics(self) -> dict[str, bool]:
        return {
            "demographic_parity_difference": False,
            "equalized_odds_difference": False,
            "accuracy": True,
            "false_positive_rate": True,
            "false_negative_rate": True,
            "flag_rate": True,
        }

    tasks = ("text-classification",)

    def model_tasks(self) -> tuple[Task, ...]:
        # With a scorer the scorer is audited, whatever the suite's models are.
        return ALL_TASKS if self.spec.scorer is not None else ("text-classification",)

    def positive_probabilities(
        self, ctx: ProbeContext, texts: list[str]
    ) -> tuple[list[float], str]:
        """P(positive) per text, and what produced it."""
        if self.spec.scorer is not None:
            scorer = build_scorer(self.spec.scorer)
            ctx.advance(len(texts))
            return scorer.score(texts), f"scorer {scorer.name} {scorer.version}"
        classifier = ctx.engine_as(SequenceClassifier, self.kind)
        labels = classifier.labels
        positive = self.spec.positive_label or labels[-1]
        if positive not in labels:
            raise ValueError(
                f"{classifier.name} has no label {positive!r}; its labels: {', '.join(labels)}"
            )
        probabilities = classifier.classify(texts, progress=ctx.advance)
        return [p[positive] for p in probabilities], f"{classifier.name} label {positive}"

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        items = self.items()
        texts = [item.text for item in items]
        ctx.set_total(len(texts))
        probabilities, source = self.positive_probabilities(ctx, texts)
        flagged = [p >= self.spec.threshold for p in probabilities]
        truth = [item.label == 1 for item in items]
        groups = [getattr(item, self.spec.sensitive_feature) for item in items]
        samples = []
        for item, p, flag, group in zip(items, probabilities, flagged, groups, strict=True):
            scores = {"correct": float(flag == (item.label == 1)), "flagged": float(flag)}
            scores["p_positive"] = p
            scores["false_negative" if item.label == 1 else "false_positive"] = float(
                flag != (item.label == 1)
            )
            samples.append(
                Sample(
                    item_id=item.id,
                    input=item.text,
                    output=f"{'flagged' if flag else 'not flagged'} (p={p:.3f})",
                    target=str(item.label),
                    scores=scores,
                    details={"group": group, "source": source},
                )
            )
        gaps = classifier_gaps(np.array(truth), np.array(flagged), np.array(groups), seed=ctx.seed)
        gap_metrics = [
            (
                "demographic_parity_difference",
                gaps.demographic_parity_difference,
                gaps.demographic_parity_ci,
                f"largest minus smallest flag rate across {self.spec.sensitive_feature} values",
            ),
            (
                "equalized_odds_difference",
                gaps.equalized_odds_difference,
                gaps.equalized_odds_ci,
                "larger of the between-group spreads of TPR and FPR",
            ),
        ]
        metrics = [
            *(
                Metric(
                    name=name,
                    value=value,
                    ci_low=low,
                    ci_high=high,
                    n=len(items),
                    direction="lower",
                    interval="bootstrap",
                    description=description,
                    unit="fraction",
                )
                for name, value, (low, high), description in gap_metrics
            ),
            proportion(
                "accuracy",
                [f == t for f, t in zip(flagged, truth, strict=True)],
                direction="higher",
                description="share of texts whose flag matches the label",
                per_item="correct",
            ),
        ]
        metrics += _error_rates(flagged, truth, [None] * len(items))
        metrics += _error_rates(flagged, truth, groups)
        metrics += [
            proportion(
                "flag_rate",
                group_flags,
                direction="none",
                description=f"share of texts flagged ({group})",
                per_item="flagged",
                group=group,
            )
            for group, group_flags in by_group(groups, flagged).items()
        ]
        return ProbeOutput(metrics, samples)


def _error_rates(flagged: list[bool], truth: list[bool], groups: list[str | None]) -> list[Metric]:
    """False-positive then false-negative rates, per group (or overall for ``None``)."""
    metrics = []
    named = sorted({g for g in groups if g is not None})
    keys: list[str | None] = [*named] if named else [None]
    for name, label, key, words in (
        ("false_positive_rate", False, "false_positive", "non-positive texts flagged"),
        ("false_negative_rate", True, "false_negative", "positive texts not flagged"),
    ):
        for group in keys:
            errors = [
                f != t
                for f, t, g in zip(flagged, truth, groups, strict=True)
                if t is label and g == group
            ]
            where = f" ({group})" if group else ""
            metrics.append(
                proportion(
                    name,
                    errors,
                    direction="lower",
                    description=f"share of {words}{where}",
                    per_item=key,
                    group=group,
                )
            )
    return metrics
