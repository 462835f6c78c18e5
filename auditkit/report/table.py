"""The comparison table both renderers draw: metric rows by model columns, already formatted.

Renderers must agree on which cell is best, what counts as missing and how a number is written, so
those decisions live here once, as plain data, and the HTML and Markdown layers only lay them out.
Nothing here computes a metric: every value comes from the ``AuditResult`` as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from auditkit.metric_format import (
    format_interval,
    format_value,
    is_percentage,
)
from auditkit.report.paired import ComparisonKey, Delta, comparisons_by_key, format_delta
from auditkit.results import (
    AuditResult,
    Direction,
    ErrorInfo,
    Metric,
    ModelResult,
    PairedComparison,
)

CellState = Literal["ok", "missing", "error", "nan"]

SHORT_HASH = 12
"""Hex digits of a sha256 shown inline; enough to tell files apart, short enough to read."""

_TIE_REL_TOL = 1e-9
"""Values this close are a tie, so float noise does not hand "best" to only one of two equals."""

CORRECTED_SUFFIX = "_corrected"
"""A judged rate ``R`` may come with ``R_corrected``: the same rate corrected for the judge's
measured error. The twin is shown right after ``R``, labelled with ``CORRECTED_LABEL``."""
CORRECTED_LABEL = "judge-corrected"

NOTE_MARK = "†"
"""Marks a model whose ``ModelInfo.notes`` a reader must know to read its numbers."""

T = TypeVar("T")


@dataclass(frozen=True)
class Cell:
    """One model's entry for one metric row."""

    state: CellState
    value: str = ""
    """Formatted point estimate (empty unless ``ok`` or ``nan``)."""
    interval: str = ""
    """Formatted 95% interval, e.g. ``[54.6, 68.0]``; empty when the metric has none."""
    n: int | None = None
    error: str = ""
    """One-line error message when ``state`` is ``error``."""
    best: bool = False
    number: float | None = None
    """The raw value, kept only to pick the best cell."""
    percentage: bool = False
    """Whether the value is shown as a percentage (so differences are in points)."""
    delta: Delta | None = None
    """The paired difference to the baseline, for a candidate's whole-probe metric."""


@dataclass(frozen=True)
class Row:
    """One metric of one probe (optionally restricted to a group) across all models."""

    probe_id: str
    metric: str
    group: str | None
    direction: Direction
    interval_method: str
    """How the interval was computed, in words (``Metric.interval_text``)."""
    description: str
    cells: tuple[Cell, ...]
    corrects: str | None = None
    """For a judge-corrected twin (``R_corrected``): the raw metric ``R`` it corrects."""

    @property
    def label(self) -> str:
        """The row's name as shown: the metric, or ``R (judge-corrected)`` for a twin."""
        return metric_label(self.metric, self.corrects)

    @property
    def arrow(self) -> str:
        """The direction as a glyph, so a reader sees at a glance which way is better."""
        return {"higher": "↑", "lower": "↓", "none": ""}[self.direction]


@dataclass(frozen=True)
class ModelNotes:
    """What a reader must know about how one model ran, in its own words."""

    model_id: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """The whole table: whole-probe rows, and per-group rows kept apart so they can be collapsed."""

    models: tuple[str, ...]
    rows: tuple[Row, ...]
    group_rows: tuple[Row, ...]
    baseline: str | None = None
    """The baseline's model id, when the suite names one that is among the models."""
    notes: tuple[ModelNotes, ...] = ()
    """The models that ran with notes, in column order; their columns carry ``NOTE_MARK``."""

    def noted(self, model_id: str) -> bool:
        """Whether ``model_id``'s column is marked: its notes are listed under the table."""
        return any(entry.model_id == model_id for entry in self.notes)

    @property
    def has_deltas(self) -> bool:
        return any(cell.delta is not None for row in self.rows for cell in row.cells)

    @property
    def has_significant(self) -> bool:
        return any(c.delta is not None and c.delta.significant for r in self.rows for c in r.cells)

    def groups_by_probe(self) -> list[tuple[str, list[Row]]]:
        """Group rows bundled per probe, in suite order, for one collapsible block per probe."""
        bundles: dict[str, list[Row]] = {}
        for row in self.group_rows:
            bundles.setdefault(row.probe_id, []).append(row)
        return list(bundles.items())


def format_parameters(count: int) -> str:
    """Parameter counts in millions, the unit model cards use for small and mid-sized models."""
    return f"{count / 1e6:,.1f}M"


def format_mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def short_hash(digest: str) -> str:
    return digest[:SHORT_HASH]


def error_line(error: ErrorInfo) -> str:
    """``Type: message`` on one line, whatever the message held."""
    text = f"{error.type}: {error.message}" if error.message else error.type
    lines = text.strip().splitlines()
    return lines[0] if lines else error.type


def metric_label(metric: str, corrects: str | None) -> str:
    """``R (judge-corrected)`` for the twin of ``R``; any other metric by its own name."""
    return f"{corrects} ({CORRECTED_LABEL})" if corrects is not None else metric


def corrected_twin(name: str, names: Collection[str]) -> str | None:
    """The raw metric that ``name`` corrects, when ``name`` is ``R_corrected`` and ``R`` is among
    ``names`` (the metrics reported next to it, in the same probe and group); else ``None``."""
    raw = name.removesuffix(CORRECTED_SUFFIX)
    return raw if raw and raw != name and raw in names else None


def twins_after_raw(items: Iterable[T], key: Callable[[T], tuple[str, str | None]]) -> list[T]:
    """``items`` (one probe's metrics, as (name, group) by ``key``) in their order, except that
    each judge-corrected twin moves right after the raw metric it corrects."""
    items = list(items)
    names: dict[str | None, set[str]] = {}
    for item in items:
        name, group = key(item)
        names.setdefault(group, set()).add(name)
    twins: dict[tuple[str, str | None], list[T]] = {}
    rest: list[T] = []
    for item in items:
        name, group = key(item)
        raw = corrected_twin(name, names[group])
        if raw is None:
            rest.append(item)
        else:
            twins.setdefault((raw, group), []).append(item)
    ordered: list[T] = []

    def place(item: T) -> None:
        ordered.append(item)
        for twin in twins.pop(key(item), []):
            place(twin)

    for item in rest:
        place(item)
    return ordered


def model_notes(result: AuditResult) -> tuple[ModelNotes, ...]:
    """Every model that ran with notes, in column order."""
    return tuple(
        ModelNotes(model.model_id, tuple(model.info.notes))
        for model in result.models
        if model.info is not None and model.info.notes
    )


def build_comparison(result: AuditResult) -> Comparison:
    """Lay the results out as rows in suite order, then metric order as first seen (a judge-
    corrected twin right after its raw metric)."""
    paired = comparisons_by_key(result)
    rows = [
        _build_row(result.models, probe_id, metric, paired, raw)
        for probe_id, metric, raw in _row_keys(result)
    ]
    models = tuple(model.model_id for model in result.models)
    return Comparison(
        models=models,
        rows=tuple(row for row in rows if row.group is None),
        group_rows=tuple(row for row in rows if row.group is not None),
        baseline=result.baseline if result.baseline in models else None,
        notes=model_notes(result),
    )


def _probe_order(result: AuditResult) -> list[str]:
    """The suite's probes first; any probe only a model knows about goes last, not missing."""
    order = [probe.id for probe in result.probes]
    for model in result.models:
        order.extend(p.probe_id for p in model.probes if p.probe_id not in order)
    return order


def _row_keys(result: AuditResult) -> list[tuple[str, Metric, Metric | None]]:
    """One (probe, first-seen metric, first-seen raw metric it corrects) per distinct (probe,
    metric name, group), twins right after their raw metric."""
    keys: list[tuple[str, Metric, Metric | None]] = []
    for probe_id in _probe_order(result):
        firsts: dict[tuple[str, str | None], Metric] = {}
        for metric in _metrics_of(result.models, probe_id):
            firsts.setdefault((metric.name, metric.group), metric)
        names: dict[str | None, set[str]] = {}
        for name, group in firsts:
            names.setdefault(group, set()).add(name)
        for metric in twins_after_raw(firsts.values(), lambda m: (m.name, m.group)):
            raw = corrected_twin(metric.name, names[metric.group])
            keys.append((probe_id, metric, None if raw is None else firsts[(raw, metric.group)]))
    return keys


def _metrics_of(models: Iterable[ModelResult], probe_id: str) -> Iterable[Metric]:
    for model in models:
        probe = model.probe(probe_id)
        if probe is not None:
            yield from probe.metrics


def _build_row(
    models: list[ModelResult],
    probe_id: str,
    first: Metric,
    paired: dict[ComparisonKey, PairedComparison],
    raw: Metric | None = None,
) -> Row:
    cells = [
        _with_delta(_cell(model, probe_id, first, raw), model, probe_id, first, paired)
        for model in models
    ]
    return Row(
        probe_id=probe_id,
        metric=first.name,
        group=first.group,
        direction=first.direction,
        interval_method=first.interval_text,
        description=first.description,
        cells=_mark_best(cells, first.direction),
        corrects=raw.name if raw is not None else None,
    )


def _with_delta(
    cell: Cell,
    model: ModelResult,
    probe_id: str,
    first: Metric,
    paired: dict[ComparisonKey, PairedComparison],
) -> Cell:
    """Attach the paired difference to a candidate's ok whole-probe cell."""
    comparison = paired.get((model.model_id, probe_id, first.name))
    if cell.state != "ok" or first.group is not None or comparison is None:
        return cell
    if comparison.baseline == model.model_id:
        return cell
    delta = format_delta(comparison, points=cell.percentage, direction=first.direction)
    return replace(cell, delta=delta)


def _cell(model: ModelResult, probe_id: str, first: Metric, raw: Metric | None = None) -> Cell:
    name, group = first.name, first.group
    if model.error is not None:
        return Cell(state="error", error=error_line(model.error))
    if model.status == "error":
        return Cell(state="error", error="model failed")
    probe = model.probe(probe_id)
    if probe is not None and probe.error is not None:
        return Cell(state="error", error=error_line(probe.error))
    if probe is not None and probe.status == "error":
        return Cell(state="error", error="probe failed")
    metric = _find(probe.metrics if probe else [], name, group)
    if metric is None:
        return Cell(state="missing")
    state: CellState = "nan" if math.isnan(metric.value) else "ok"
    return Cell(
        state=state,
        value=format_value(metric, raw),
        interval=format_interval(metric, raw),
        n=metric.n,
        number=None if state == "nan" else metric.value,
        percentage=is_percentage(metric, raw),
    )


def _find(metrics: list[Metric], name: str, group: str | None) -> Metric | None:
    return next((m for m in metrics if m.name == name and m.group == group), None)


def _mark_best(cells: list[Cell], direction: Direction) -> tuple[Cell, ...]:
    """Flag every ok cell equal to the best value; nothing to flag without a direction or rival."""
    numbers = [c.number for c in cells if c.state == "ok" and c.number is not None]
    if direction == "none" or len(numbers) < 2:
        return tuple(cells)
    target = max(numbers) if direction == "higher" else min(numbers)
    return tuple(replace(cell, best=True) if _ties(cell, target) else cell for cell in cells)


def _ties(cell: Cell, target: float) -> bool:
    return (
        cell.state == "ok"
        and cell.number is not None
        and math.isclose(cell.number, target, rel_tol=_TIE_REL_TOL, abs_tol=0.0)
    )
