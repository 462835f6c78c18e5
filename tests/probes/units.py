"""Checks that a probe's metrics carry units and read in reports exactly as before units existed."""

from __future__ import annotations

from collections.abc import Sequence

from auditkit.metric_format import format_interval, format_value
from auditkit.report.table import corrected_twin
from auditkit.results import Metric


def as_before_units(metric: Metric) -> Metric:
    """``metric`` as a results file written before units and interval names held it: no unit, and
    the interval as free text (read back the way old files are read)."""
    data = metric.model_dump()
    data.update(unit=None, interval=metric.interval_text, interval_detail=None)
    return Metric.model_validate(data)


def assert_units_read_as_before(metrics: Sequence[Metric]) -> None:
    """Every metric has a unit, an interval method when it has an interval, and the same value and
    interval text as the name-and-interval guesses gave (a judge-corrected twin read like its raw
    metric, as the comparison table reads it)."""
    names: dict[str | None, set[str]] = {}
    for metric in metrics:
        names.setdefault(metric.group, set()).add(metric.name)
    found = {(m.name, m.group): m for m in metrics}
    for metric in metrics:
        assert metric.unit is not None, metric.name
        has_interval = metric.ci_low is not None or metric.ci_high is not None
        assert (metric.interval != "none") or not has_interval, metric.name
        raw_name = corrected_twin(metric.name, names[metric.group])
        raw = found[(raw_name, metric.group)] if raw_name is not None else None
        old = as_before_units(metric)
        old_raw = as_before_units(raw) if raw is not None else None
        assert old.interval == metric.interval and old.interval_detail == metric.interval_detail
        now = (format_value(metric, raw), format_interval(metric, raw))
        assert now == (format_value(old, old_raw), format_interval(old, old_raw)), metric.name
