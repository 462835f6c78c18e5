"""Which charts the scorecard shows, and the numbers in them, read from an ``AuditResult``."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from auditkit.metric_format import format_number, format_value, is_percentage
from auditkit.report.charts import Bar, Point, bar_chart, finite, scatter_chart
from auditkit.report.table import NOTE_MARK, corrected_twin, metric_label, twins_after_raw
from auditkit.results import AuditResult, ChartKind, Metric, ModelResult, ProbeResult

GIB = 2**30


@dataclass(frozen=True)
class Figure:
    caption: str
    svg: Markup


@dataclass(frozen=True)
class ProbeFigures:
    probe_id: str
    figures: tuple[Figure, ...]


def _probe_ids(result: AuditResult) -> list[str]:
    order = [probe.id for probe in result.probes]
    for model in result.models:
        order.extend(p.probe_id for p in model.probes if p.probe_id not in order)
    return order


def _ok_probe(model: ModelResult, probe_id: str) -> ProbeResult | None:
    probe = model.probe(probe_id) if model.status == "ok" else None
    return probe if probe is not None and probe.status == "ok" else None


def _metric(model: ModelResult, probe_id: str, name: str) -> Metric | None:
    probe = _ok_probe(model, probe_id)
    if probe is None:
        return None
    return next((m for m in probe.metrics if m.name == name and m.group is None), None)


def _whole_probe_metrics(result: AuditResult, probe_id: str) -> dict[str, Metric]:
    """Every whole-probe metric of the probe by name, first seen first."""
    found: dict[str, Metric] = {}
    for model in result.models:
        probe = _ok_probe(model, probe_id)
        for metric in probe.metrics if probe else []:
            if metric.group is None:
                found.setdefault(metric.name, metric)
    return found


def _interval_metrics(result: AuditResult, probe_id: str) -> list[Metric]:
    """Whole-probe metrics that at least one model reports with an interval, first seen first
    (a judge-corrected twin right after its raw metric, as in the table)."""
    found: dict[str, Metric] = {}
    for model in result.models:
        probe = _ok_probe(model, probe_id)
        for metric in probe.metrics if probe else []:
            has_interval = metric.ci_low is not None and metric.ci_high is not None
            if metric.group is None and has_interval and metric.name not in found:
                found[metric.name] = metric
    return twins_after_raw(found.values(), lambda m: (m.name, None))


def _marks(result: AuditResult) -> dict[str, str]:
    """Model id -> the mark its label carries: ``NOTE_MARK`` for a model that ran with notes."""
    return {
        model.model_id: NOTE_MARK
        for model in result.models
        if model.info is not None and model.info.notes
    }


def _bar(
    model: ModelResult,
    probe_id: str,
    name: str,
    baseline: str | None,
    mark: str = "",
    like: Metric | None = None,
) -> Bar:
    metric = _metric(model, probe_id, name)
    highlight = model.model_id == baseline
    if metric is None:
        reason = "error" if model.status != "ok" or _ok_probe(model, probe_id) is None else ""
        return Bar(
            model.model_id, None, text=reason or "not reported", highlight=highlight, mark=mark
        )
    value = None if math.isnan(metric.value) else metric.value
    return Bar(
        model.model_id,
        value,
        metric.ci_low,
        metric.ci_high,
        text=format_value(metric, like),
        highlight=highlight,
        mark=mark,
    )


def metric_figures(result: AuditResult) -> list[ProbeFigures]:
    """Per probe, one bar chart per whole-probe metric that has intervals; for probes that
    declare ``per_group`` charts, also one per metric reported by group (each group's bars side
    by side, model after model)."""
    marks = _marks(result)
    bundles = []
    for probe_id in _probe_ids(result):
        figures = []
        metrics = _whole_probe_metrics(result, probe_id)
        for first in _interval_metrics(result, probe_id):
            raw_name = corrected_twin(first.name, metrics)
            raw = metrics[raw_name] if raw_name is not None else None
            label = metric_label(first.name, raw_name)
            bars = [
                _bar(m, probe_id, first.name, result.baseline, marks.get(m.model_id, ""), raw)
                for m in result.models
            ]
            title = f"{probe_id}: {label} by model, with 95% intervals"
            svg = bar_chart(title, bars, percent=is_percentage(first, raw))
            figures.append(Figure(caption=f"{label} ({_direction(first)})", svg=svg))
        if "per_group" in declared_charts(result, probe_id):
            figures.extend(_group_figures(result, probe_id))
        if figures:
            bundles.append(ProbeFigures(probe_id, tuple(figures)))
    return bundles


def declared_charts(result: AuditResult, probe_id: str) -> set[ChartKind]:
    """The charts the probe declared (``ProbeResult.charts``, saved by the run that computed its
    results), so a plugin probe charts without being installed here; for files written before
    probes declared charts, what the legacy rule gives."""
    declared = [
        probe.charts
        for model in result.models
        if (probe := model.probe(probe_id)) is not None and probe.charts is not None
    ]
    if declared:
        return {chart for charts in declared for chart in charts}
    return _legacy_charts(result, probe_id)


LEGACY_GROUP_CHART_KINDS = ("bias.",)
"""Legacy path only: the probe kinds whose per-group metrics got charts in results written before
``ProbeResult.charts`` existed. Never consulted for a file that carries the declaration."""


LEGACY_COST_KINDS: dict[str, ChartKind] = {"latency": "latency", "resources": "footprint"}
"""Legacy path only: the probe kinds that measured latency and footprint before they declared
it."""


def _legacy_charts(result: AuditResult, probe_id: str) -> set[ChartKind]:
    """Legacy path: an old ``results.json`` charts as it did when it was written, by its probe's
    kind prefix."""
    kinds = {probe.kind for probe in result.probes if probe.id == probe_id}
    if not kinds:  # results assembled without the suite's record of its probes
        kinds = {p.kind for m in result.models if (p := m.probe(probe_id)) is not None}
    charts: set[ChartKind] = set()
    for kind in kinds:
        if kind.startswith(LEGACY_GROUP_CHART_KINDS):
            charts.add("per_group")
        if kind in LEGACY_COST_KINDS:
            charts.add(LEGACY_COST_KINDS[kind])
    return charts


MAX_GROUP_BARS = 80
"""Bars per group chart at most; the table below the charts has every group."""


def _group_figures(result: AuditResult, probe_id: str) -> list[Figure]:
    """One chart per metric name that some model reports by group with an interval."""
    by_name: dict[str, dict[tuple[str, str], Metric]] = {}
    for model in result.models:
        probe = _ok_probe(model, probe_id)
        for metric in probe.metrics if probe else []:
            if metric.group is not None and metric.ci_low is not None:
                by_name.setdefault(metric.name, {})[(metric.group, model.model_id)] = metric
    figures = []
    several = len(result.models) > 1
    marks = _marks(result)
    for name, metrics in by_name.items():
        groups = list(dict.fromkeys(group for group, _ in metrics))
        bars = [
            Bar(
                f"{group} · {model.model_id}" if several else group,
                None if math.isnan(found.value) else found.value,
                found.ci_low,
                found.ci_high,
                text=format_value(found),
                highlight=model.model_id == result.baseline,
                mark=marks.get(model.model_id, ""),
            )
            for group in groups
            for model in result.models
            if (found := metrics.get((group, model.model_id))) is not None
        ]
        first = next(iter(metrics.values()))
        cut = len(bars) > MAX_GROUP_BARS
        shown = f", first {MAX_GROUP_BARS} of {len(bars)} bars" if cut else ""
        title = f"{probe_id}: {name} by group, with 95% intervals"
        svg = bar_chart(title, bars[:MAX_GROUP_BARS], percent=is_percentage(first))
        caption = f"{name} by group ({_direction(first)}{shown})"
        figures.append(Figure(caption=caption, svg=svg))
    return figures


def _direction(metric: Metric) -> str:
    return {"higher": "higher is better", "lower": "lower is better", "none": "descriptive"}[
        metric.direction
    ]


def quality_metric(result: AuditResult) -> tuple[str, Metric] | None:
    """The first probe's first whole-probe metric where higher is better (the quality axis), or,
    when it has none (a speech probe), its first error rate (unit ``error rate``: lower is
    better, and a quality, unlike a loss or a latency)."""
    probe_ids = _probe_ids(result)
    if not probe_ids:
        return None
    for is_quality in (_higher_is_better, _is_error_rate):
        for model in result.models:
            probe = _ok_probe(model, probe_ids[0])
            for metric in probe.metrics if probe else []:
                if is_quality(metric) and metric.group is None:
                    return probe_ids[0], metric
    return None


def _higher_is_better(metric: Metric) -> bool:
    return metric.direction == "higher"


def _is_error_rate(metric: Metric) -> bool:
    return metric.unit == "error rate" and metric.direction == "lower"


def _seconds_per_item(model: ModelResult, probe_id: str) -> float | None:
    probe = _ok_probe(model, probe_id)
    if probe is None or probe.n_samples <= 0 or probe.seconds <= 0:
        return None
    return probe.seconds / probe.n_samples


def _gib(model: ModelResult) -> float | None:
    if model.info is None or model.info.bytes_on_disk <= 0:
        return None
    return model.info.bytes_on_disk / GIB


def cost_figures(result: AuditResult) -> list[Figure]:
    """Quality against size on disk and against seconds per item, one point per model.

    A chart that would have no point at all (say, no probe timings were recorded) is left out.
    """
    chosen = quality_metric(result)
    if chosen is None:
        return []
    probe_id, first = chosen
    percent = is_percentage(first)
    quality = f"{probe_id}: {first.name}"
    axes = (
        ("size on disk (GiB)", _gib, "GiB", "size on disk"),
        (
            f"seconds per item ({probe_id})",
            lambda m: _seconds_per_item(m, probe_id),
            "s/item",
            "latency",
        ),
    )
    figures = []
    marks = _marks(result)
    for x_label, cost, unit, what in axes:
        points = [
            _point(
                m, probe_id, first.name, cost(m), unit, result.baseline, marks.get(m.model_id, "")
            )
            for m in result.models
        ]
        if not any(finite(p.x) and finite(p.y) for p in points):
            continue  # e.g. no probe timings recorded: nothing to draw
        title = f"{quality} against {x_label}"
        svg = scatter_chart(title, x_label, quality, points, percent=percent)
        figures.append(Figure(caption=f"Quality vs {what}", svg=svg))
    return figures


def _point(
    model: ModelResult,
    probe_id: str,
    name: str,
    x: float | None,
    unit: str,
    baseline: str | None,
    mark: str = "",
) -> Point:
    metric = _metric(model, probe_id, name)
    highlight = model.model_id == baseline
    if metric is None:
        return Point(model.model_id, x, None, highlight=highlight, mark=mark)
    x_text = f"{format_number(x)} {unit}" if x is not None else f"no {unit} value"
    return Point(
        model.model_id,
        x,
        metric.value,
        metric.ci_low,
        metric.ci_high,
        text=f"{format_value(metric)} at {x_text}",
        highlight=highlight,
        mark=mark,
    )
