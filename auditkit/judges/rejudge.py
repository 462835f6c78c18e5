"""Judge saved replies without a model: ``auditkit judge NAME FILE.jsonl`` and ``--card``.

A row holds the judge's item fields (as in the probe's data file, or an ``item_id`` naming a
shipped item) and ``reply``; a saved ``samples.jsonl`` line works too (its ``output`` is the
reply). A row that also carries ``label`` is compared with the verdict, so a labelled set of one's
own measures a judge the way its card does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from auditkit.errors import UserError
from auditkit.judges._base import JUDGES, judge_named, read_rows
from auditkit.judges.card import MeasuredJudge, card_from_pairs, judge_card
from auditkit.results import JudgeCard


class _RowExtras(BaseModel):
    """What a row may carry besides the judge's fields."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    item_id: str | None = None
    label: str | None = None


def judge_file(name: str, path: Path) -> tuple[list[dict[str, Any]], MeasuredJudge | None]:
    """One result per row of ``path`` (``verdict``, ``evidence``, the row's id and label), and,
    when every row has a ``label``, the card of the judge on these rows."""
    judge = judge_named(name)
    rows = read_rows(path, judge, extra=_RowExtras, reply_from="output")
    verdicts = judge.judge_many([row for row, _ in rows])
    results = []
    for number, ((_, extras), verdict) in enumerate(zip(rows, verdicts, strict=True), start=1):
        results.append(
            {
                "row": number,
                "id": extras.id,
                "item_id": extras.item_id,
                "judge": f"{judge.name}@{judge.version}",
                "verdict": verdict.label,
                **({"label": extras.label} if extras.label is not None else {}),
                "evidence": verdict.evidence,
            }
        )
    labelled = [(extras.label, v.label) for (_, extras), v in zip(rows, verdicts, strict=True)]
    if not all(truth is not None for truth, _ in labelled):
        return results, None
    pairs = [(str(truth), verdict) for truth, verdict in labelled]
    return results, card_from_pairs(judge.name, judge.version, judge.question, judge.labels, pairs)


def card_text(card: JudgeCard, rows: str | None = None) -> Iterator[str]:
    """A judge card as lines of text: accuracy, then each label's sensitivity and specificity.
    ``rows`` names the rows it was measured on (default: the card's own set)."""

    def show(p: Any) -> str:
        return f"{p.value:6.1%} [{p.ci_low:5.1%}, {p.ci_high:5.1%}] n={p.n}"

    if rows is None:
        rows = (
            "held-out set, never tuned on"
            if card.measured_on == "heldout"
            else "development set, the rules were tuned on it"
        )
    yield f"{card.judge} (rules v{card.version}): {card.question}"
    yield f"  measured on  {rows}"
    yield f"  accuracy     {show(card.accuracy)}"
    for label in card.labels:
        yield f"  {label.label:<11}  sensitivity {show(label.sensitivity)}"
        yield f"  {'':<11}  specificity {show(label.specificity)}"
    if card.development_accuracy is not None:
        yield f"  development  {show(card.development_accuracy)} (the rows the rules were tuned on)"


def all_cards() -> list[MeasuredJudge]:
    """The card of every registered judge on its shipped held-out set, leaving out the judges
    that cannot be built without options (an NLI judge needs its model: ``--card NAME --source
    DIR``)."""
    names = []
    for name in sorted(JUDGES):
        try:
            judge_named(name)
        except UserError:
            continue
        names.append(name)
    return [judge_card(name) for name in names]


def json_line(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False)
