"""How a metric's value and interval read: ``61.5%``, ``0.412``, ``513.1 MiB``, ``734.8 ms``.

One set of rules for every place that shows a number (the scorecard, the summary, the progress
line), below both the report and the run layers so either may use it. A metric's own ``unit``
decides; results written before metrics had units fall back to what the interval and the name
imply.
"""

from __future__ import annotations

import math

from auditkit.results import Metric, Unit


def format_number(value: float) -> str:
    """Three decimals; three significant digits for tiny values so they do not read as zero."""
    if value != 0 and abs(value) < 0.001:
        return f"{value:.3g}"
    return f"{value:.3f}"


def metric_unit(metric: Metric, like: Metric | None = None) -> Unit | None:
    """The unit ``metric`` is shown in: its own, or for results written before metrics had units,
    the one its interval and name imply (``None``: a plain number). ``like`` (the raw metric a
    judge-corrected twin corrects) lends the twin its interval, so both read alike."""
    if metric.unit is not None:
        return metric.unit
    kind = like if like is not None else metric
    if kind.interval == "wilson" and 0.0 <= metric.value <= 1.0:
        return "share"
    return _unit_from_name(metric.name)


def _unit_from_name(name: str) -> Unit | None:
    """What old results' metric names say: bytes (``*bytes*``), milliseconds (``*_ms``,
    ``*_ms_p50``), parameter counts (``parameters``), batch sizes, rates (``*_per_s``)."""
    for part in name.split("/"):  # "b1_p64/e2e_ms_p50", "parameter_bytes/float32"
        if "bytes" in part and "per" not in part:
            return "bytes"
        if part.endswith("_ms") or "_ms_" in part:
            return "ms"
        if part == "parameters":
            return "parameters"
        if part.endswith("batch_size"):
            return "count"
        if part.endswith("_per_s"):
            return "tokens/s" if "token" in part else "samples/s"
    return None


_SCALES: dict[Unit, tuple[float, str, int]] = {
    "ms": (1.0, " ms", 1),
    "parameters": (1e6, "M", 1),
    "count": (1.0, "", 0),
    "tokens/s": (1.0, "", 1),
    "samples/s": (1.0, "", 1),
    "texts/s": (1.0, " texts/s", 1),
    "images/s": (1.0, " images/s", 1),
    "error rate": (0.01, "%", 1),
    "real-time factor": (1.0, "×", 3),
    "ms/audio s": (1.0, " ms/audio s", 1),
}
"""(divisor, suffix, decimals) of the units written with a fixed scale; ``bytes`` picks MiB or GiB
by size, ``share`` is a percentage, and the other units are plain numbers (``format_number``)."""


def is_percentage(metric: Metric, like: Metric | None = None) -> bool:
    """Whether the value reads as a percentage: a share in [0, 1] (``like`` as for
    ``metric_unit``)."""
    return metric_unit(metric, like) == "share" and 0.0 <= metric.value <= 1.0


def format_value(metric: Metric, like: Metric | None = None) -> str:
    """The point estimate as a reader should see it (``61.5%``, ``0.412``, ``513.1 MiB``,
    ``734.8 ms``, ``134.5M``); ``like`` as for ``metric_unit``."""
    if math.isnan(metric.value):
        return "NaN"
    if is_percentage(metric, like):
        return f"{metric.value * 100:.1f}%"
    scale = _scale(metric, like)
    if scale is not None:
        divisor, suffix, digits = scale
        return f"{metric.value / divisor:,.{digits}f}{suffix}"
    return format_number(metric.value)


def format_interval(metric: Metric, like: Metric | None = None) -> str:
    """The interval in the value's unit, without a percent sign or unit to keep it short."""
    if metric.ci_low is None or metric.ci_high is None:
        return ""
    if is_percentage(metric, like):
        return f"[{metric.ci_low * 100:.1f}, {metric.ci_high * 100:.1f}]"
    scale = _scale(metric, like)
    if scale is not None:
        divisor, _, digits = scale
        low, high = metric.ci_low / divisor, metric.ci_high / divisor
        return f"[{low:,.{digits}f}, {high:,.{digits}f}]"
    return f"[{format_number(metric.ci_low)}, {format_number(metric.ci_high)}]"


def _scale(metric: Metric, like: Metric | None) -> tuple[float, str, int] | None:
    """(divisor, suffix, decimals) for the metric's unit; ``None`` for a plain number."""
    unit = metric_unit(metric, like)
    if unit == "bytes":
        return _byte_scale(metric.value)
    return _SCALES.get(unit) if unit is not None else None


def _byte_scale(size: float) -> tuple[float, str, int]:
    return (2**30, " GiB", 2) if abs(size) >= 2**30 else (2**20, " MiB", 1)


def format_bytes(size: float) -> str:
    """``98.4 MiB`` below a GiB, ``1.12 GiB`` from there."""
    divisor, suffix, digits = _byte_scale(size)
    return f"{size / divisor:,.{digits}f}{suffix}"
