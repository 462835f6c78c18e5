"""Which per-item records the scorecard shows: those that changed against the baseline and the
worst-scored ones, capped so that the page stays small however large ``samples.jsonl`` is.

Records are untrusted text; this module only picks and trims them, the template escapes them.
The explorer only shows examples, so a bad ``samples.jsonl`` line is skipped and counted, and the
page says how many were (``auditkit.samples_schema`` has the policy).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, zip_longest
from pathlib import Path
from typing import Any

from auditkit.outputs import SAMPLES_FILE
from auditkit.results import AuditResult
from auditkit.samples_schema import BadLine
from auditkit.samples_schema import read_samples as read_sample_file

MAX_PER_KIND = 30
"""Items shown per probe for each reason (changed against the baseline, worst score)."""
MAX_TOTAL = 300
"""Items shown in the whole page."""
PREVIEW = 300
"""Characters of a text shown inline; longer texts fold the whole away behind a summary."""
MAX_TEXT = 4_000
"""Characters kept of any one text at all."""

CHANGED = "changed"
WORST = "worst"


@dataclass(frozen=True)
class Text:
    preview: str
    full: str = ""
    """The whole text (up to ``MAX_TEXT``) when the preview is only its start, else empty."""


@dataclass(frozen=True)
class Record:
    """One model's answer to one item, as a ``samples.jsonl`` line holds it."""

    model_id: str
    probe_id: str
    item_id: str
    input: str
    output: str
    target: str
    scores: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Shown:
    """A record picked for the explorer, with why it was picked."""

    item_id: str
    model_id: str
    input: Text
    output: Text
    target: Text
    scores: str
    reasons: tuple[str, ...]
    baseline_output: Text | None = None
    """The baseline's answer, for an item whose answer changed."""


@dataclass(frozen=True)
class ProbeSamples:
    probe_id: str
    rows: tuple[Shown, ...]
    score_key: str
    """The score the worst items are ranked by (empty when no record has a score)."""


@dataclass(frozen=True)
class Explorer:
    probes: tuple[ProbeSamples, ...]
    models: tuple[str, ...]
    """Models with at least one row shown, for the model selector."""
    records: int
    """Records read, before picking."""
    skipped: tuple[BadLine, ...] = ()
    """Lines of the ``samples.jsonl`` that were not records, left out."""

    @property
    def shown(self) -> int:
        return sum(len(p.rows) for p in self.probes)

    @property
    def skipped_note(self) -> str:
        """What the page says about skipped lines; empty when none was."""
        if not self.skipped:
            return ""
        count = len(self.skipped)
        plural = "s" if count > 1 else ""
        lines = ", ".join(str(bad.line) for bad in self.skipped[:MAX_LINES_NAMED])
        more = "…" if count > MAX_LINES_NAMED else ""
        first = self.skipped[0]
        return (
            f"Left out {count} line{plural} of {SAMPLES_FILE} that "
            f"{'are not sample records' if plural else 'is not a sample record'}: "
            f"line{plural} {lines}{more} (line {first.line}: {first.problem})."
        )


MAX_LINES_NAMED = 10
"""Line numbers of skipped lines named in the note; the rest are counted."""


class SampleRows(list[dict[str, Any]]):
    """The records of a ``samples.jsonl`` as JSON rows, with the lines that were skipped."""

    def __init__(self, rows: Iterable[dict[str, Any]], skipped: Sequence[BadLine] = ()) -> None:
        super().__init__(rows)
        self.skipped = tuple(skipped)


def read_samples(path: Path) -> SampleRows:
    """The records of a ``samples.jsonl`` as JSON rows, bad lines skipped (and listed in
    ``SampleRows.skipped``); none if the file is absent."""
    found = read_sample_file(path, strict=False)
    return SampleRows((record.model_dump() for record in found.records), found.bad_lines)


_SURROGATE = re.compile("[\ud800-\udfff]")
"""Halves of a pair that JSON escapes can smuggle in; they cannot be written as UTF-8."""


def as_text(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _SURROGATE.sub("\ufffd", text)


def trim(value: str) -> Text:
    if len(value) <= PREVIEW:
        return Text(value)
    full = value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"… ({len(value):,} chars)"
    return Text(value[:PREVIEW] + "…", full)


def to_record(row: Mapping[str, Any]) -> Record | None:
    """A record from a raw row; ``None`` when the row lacks its ids."""
    if not all(isinstance(row.get(k), str | int) for k in ("model_id", "probe_id", "item_id")):
        return None
    scores = row.get("scores")
    return Record(
        model_id=as_text(str(row["model_id"])),
        probe_id=as_text(str(row["probe_id"])),
        item_id=as_text(str(row["item_id"])),
        input=as_text(row.get("input")),
        output=as_text(row.get("output")),
        target=as_text(row.get("target")),
        scores=tuple(scores.items()) if isinstance(scores, dict) else (),
    )


def score_of(record: Record, key: str) -> float | None:
    value = dict(record.scores).get(key)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def format_scores(scores: Iterable[tuple[str, Any]]) -> str:
    parts = []
    for key, value in scores:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        shown = f"{number:.4g}".replace("-", "−") if number is not None else as_text(value)
        parts.append(f"{as_text(key)} = {shown}")
    return " · ".join(parts)


def round_robin(lists: Sequence[Sequence[Record]], limit: int) -> list[Record]:
    """Take from each list in turn, so that every model is represented before any gets more."""
    merged = (r for r in chain.from_iterable(zip_longest(*lists)) if r is not None)
    return [record for _, record in zip(range(limit), merged, strict=False)]


def changed_items(by_model: Mapping[str, list[Record]], baseline: str | None) -> list[Record]:
    if baseline is None or baseline not in by_model:
        return []
    base = {r.item_id: r.output for r in by_model[baseline]}
    candidates = [
        [r for r in records if r.item_id in base and r.output != base[r.item_id]]
        for model_id, records in by_model.items()
        if model_id != baseline
    ]
    return round_robin(candidates, MAX_PER_KIND)


def first_score_key(records: Iterable[Record]) -> str:
    return next((r.scores[0][0] for r in records if r.scores), "")


def worst_items(by_model: Mapping[str, list[Record]], key: str) -> list[Record]:
    """Each model's items by ascending score, leaving out items at the top score (nothing wrong)."""
    scored = [
        [(score, r) for r in records if (score := score_of(r, key)) is not None]
        for records in by_model.values()
    ]
    top = max((score for pairs in scored for score, _ in pairs), default=None)
    ranked = [
        [r for score, r in sorted(pairs, key=lambda pair: pair[0]) if score != top]
        for pairs in scored
    ]
    return round_robin(ranked, MAX_PER_KIND)


def _group(records: Iterable[Record], result: AuditResult) -> dict[str, dict[str, list[Record]]]:
    """Probe → model → records, in the result's probe and model order, each item once."""
    models = [m.model_id for m in result.models]
    probes: dict[str, dict[str, list[Record]]] = {
        p.id: {m: [] for m in models} for p in result.probes
    }
    seen: set[tuple[str, str, str]] = set()
    for record in records:
        key = (record.model_id, record.probe_id, record.item_id)
        if key not in seen:
            seen.add(key)
            by_model = probes.setdefault(record.probe_id, {m: [] for m in models})
            by_model.setdefault(record.model_id, []).append(record)
    return {pid: by_model for pid, by_model in probes.items() if any(by_model.values())}


def _pick(
    by_model: Mapping[str, list[Record]], baseline: str | None, key: str
) -> Iterator[tuple[Record, str]]:
    yield from ((r, CHANGED) for r in changed_items(by_model, baseline))
    if key:
        yield from ((r, WORST) for r in worst_items(by_model, key))


def select_samples(result: AuditResult, rows: Iterable[Mapping[str, Any]]) -> Explorer:
    """Per probe: items whose answer differs from the baseline's, then each model's worst items.

    ``rows`` read by ``read_samples`` carry the lines they skipped, which the explorer reports."""
    skipped = rows.skipped if isinstance(rows, SampleRows) else ()
    records = [r for r in (to_record(row) for row in rows) if r is not None]
    baseline = result.baseline
    budget = MAX_TOTAL
    bundles: list[ProbeSamples] = []
    for probe_id, by_model in _group(records, result).items():
        base = {r.item_id: r.output for r in by_model.get(baseline or "", [])}
        key = first_score_key(chain.from_iterable(by_model.values()))
        picked: dict[tuple[str, str], tuple[Record, list[str]]] = {}
        for record, reason in _pick(by_model, baseline, key):
            entry = picked.get((record.model_id, record.item_id))
            if entry is not None:
                entry[1].append(reason)
            elif len(picked) < budget:
                picked[(record.model_id, record.item_id)] = (record, [reason])
        budget -= len(picked)
        position = _item_positions(by_model)
        rank = {model_id: i for i, model_id in enumerate(by_model)}
        ordered = sorted(
            picked.values(), key=lambda e: (position[e[0].item_id], rank[e[0].model_id])
        )
        shown = tuple(_shown(r, why, base.get(r.item_id)) for r, why in ordered)
        if shown:
            bundles.append(ProbeSamples(probe_id, shown, key))
    models = {row.model_id for bundle in bundles for row in bundle.rows}
    order = [m.model_id for m in result.models] + sorted(models)
    return Explorer(
        tuple(bundles),
        tuple(dict.fromkeys(m for m in order if m in models)),
        len(records),
        skipped,
    )


def _item_positions(by_model: Mapping[str, list[Record]]) -> dict[str, int]:
    """Items in the order they first appear, so one item's rows for several models sit together."""
    order = dict.fromkeys(r.item_id for r in chain.from_iterable(by_model.values()))
    return {item_id: i for i, item_id in enumerate(order)}


def _shown(record: Record, reasons: list[str], baseline_output: str | None) -> Shown:
    changed = CHANGED in reasons
    return Shown(
        item_id=record.item_id,
        model_id=record.model_id,
        input=trim(record.input),
        output=trim(record.output),
        target=trim(record.target),
        scores=format_scores(record.scores),
        reasons=tuple(reasons),
        baseline_output=trim(baseline_output) if changed and baseline_output is not None else None,
    )
