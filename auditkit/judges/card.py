"""A judge's card: how often it agrees with the labels of a labelled set of replies.

Cards are measured on the judge's held-out set (``auditkit/data/judges/heldout/``), which nobody
tuned the rules against; the development set the rules were tuned on gives only the optimistic
``development_accuracy`` beside it.

For every label L of a judge, treating "the verdict is L" as a test for "the truth is L":

- ``sensitivity`` = P(verdict L | truth L) = TP / (TP + FN);
- ``specificity`` = P(verdict not L | truth not L) = TN / (TN + FP);

and over all labels ``accuracy`` = share of rows whose verdict equals the label. Each is a
proportion with a 95% Wilson interval and its n. The card also keeps every (truth, verdict) pair,
which the error-corrected rates resample (``auditkit.judges.correction``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from auditkit.judges._base import Split, judge_named, read_rows, validation_path
from auditkit.results import JudgeCard, LabelCard, Proportion
from auditkit.stats import wilson_interval


class MeasuredJudge(JudgeCard):
    """A judge's card with the (truth, verdict) pairs it was computed from."""

    pairs: list[tuple[str, str]] = Field(repr=False, exclude=True)
    """(truth, verdict) of every validation row, in file order."""

    @property
    def card(self) -> JudgeCard:
        """The card alone, as results record it."""
        return JudgeCard.model_validate(self.model_dump())


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: str


def proportion(hits: Sequence[bool]) -> Proportion:
    successes, n = sum(hits), len(hits)
    low, high = wilson_interval(successes, n)
    return Proportion(value=successes / n if n else math.nan, ci_low=low, ci_high=high, n=n)


@functools.cache
def judge_card(name: str, *, split: Split | None = None, **options: Any) -> MeasuredJudge:
    """Judge a labelled set of ``name`` (built with ``options``) and measure the verdicts
    against its labels: the held-out set when the judge has one (``split=None``), else the one
    named. A held-out card also carries the development set's accuracy."""
    judge = judge_named(name, **options)
    stem = judge.validation_set or name
    folder = judge.validation_dir
    if split is None:
        held_out = validation_path(stem, "heldout", folder=folder).is_file()
        split = "heldout" if held_out else "development"
    rows = read_rows(validation_path(stem, split, folder=folder), judge, extra=_Labelled)
    verdicts = judge.judge_many([row for row, _ in rows])
    pairs = [
        (labelled.label, verdict.label)
        for (_, labelled), verdict in zip(rows, verdicts, strict=True)
    ]
    unknown = {truth for truth, _ in pairs} - set(judge.labels)
    if unknown:
        raise ValueError(f"{split} set of {name!r} has labels it cannot give: {unknown}")
    card = card_from_pairs(name, judge.version, judge.question, judge.labels, pairs)
    if split == "development":
        return card.model_copy(update={"measured_on": "development"})
    development = judge_card(name, split="development", **options).accuracy
    return card.model_copy(update={"development_accuracy": development})


def card_from_pairs(
    name: str, version: str, question: str, labels: Sequence[str], pairs: list[tuple[str, str]]
) -> MeasuredJudge:
    return MeasuredJudge(
        judge=name,
        version=version,
        question=question,
        n=len(pairs),
        accuracy=proportion([truth == verdict for truth, verdict in pairs]),
        labels=[
            LabelCard(
                label=label,
                sensitivity=proportion([v == label for t, v in pairs if t == label]),
                specificity=proportion([v != label for t, v in pairs if t != label]),
            )
            for label in labels
        ],
        pairs=pairs,
    )
