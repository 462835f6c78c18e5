"""The deployment view: one row per model variant with what shipping that build keeps and costs.

Each row reads numbers the audit already has, computing none of its own: the build from
``ModelInfo``, the flip rate from the agreement counts (``paired.agreements``), the headline
quality metric with its interval, the end-to-end median latency of the ``latency`` probe, peak
memory from the ``resources`` probe, and the size on disk.

A variant is on the Pareto front when no other variant is at least as good on every compared
column and strictly better on one. A column is compared only when every loaded variant has a
value in it (for memory: the same kind of memory, all accelerator or all host), so a missing
number never decides who is on the front.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from auditkit.metric_format import format_bytes, format_interval, format_value
from auditkit.report.figures import declared_charts
from auditkit.report.paired import agreements
from auditkit.report.table import error_line
from auditkit.results import (
    AuditResult,
    ChartKind,
    Metric,
    ModelInfo,
    ModelResult,
    PruningDetail,
    QuantizationDetail,
)

LATENCY_METRIC = "e2e_ms_p50"
"""End-to-end median time; the ``latency`` probe always reports it under this short name."""
GPU_MEMORY = "peak_gpu_allocated_bytes"
HOST_MEMORY = "peak_rss_bytes"
DISK_METRIC = "bytes_on_disk"
COST_CHARTS: tuple[ChartKind, ...] = ("latency", "footprint")
"""What probes that measure speed and size declare (``Probe.charts``): never the quality axis."""

FRONT_MARK = "★"
FRONT_LEGEND = "no other build is better on every column"

_TIE_REL_TOL = 1e-9
"""Values this close are equal, so float noise never makes one build strictly better."""

Sense = Literal["higher", "lower"]


@dataclass(frozen=True)
class Column:
    key: str
    """The ``DeploymentRow`` field that holds the column's values."""
    label: str
    """The column's name in running text (legends)."""
    sense: Sense
    hint: str = ""
    """What exactly was measured, shown under the label."""

    @property
    def heading(self) -> str:
        return self.label[:1].upper() + self.label[1:]

    @property
    def arrow(self) -> str:
        return "↑" if self.sense == "higher" else "↓"


QUALITY = Column("quality", "quality", "higher")
LATENCY = Column("latency", "latency p50", "lower", "end to end, median of runs")
MEMORY = Column("memory", "peak memory", "lower", "accelerator if any, else host")
DISK = Column("disk", "size on disk", "lower", "weight files")
COLUMNS = (QUALITY, LATENCY, MEMORY, DISK)
"""The columns the Pareto front weighs, in display order."""


def columns_for(quality_direction: str) -> tuple[Column, ...]:
    """``COLUMNS`` with the quality column's sense set by the headline metric's direction (an
    error rate: lower is better)."""
    if quality_direction == "lower":
        return (replace(QUALITY, sense="lower"), LATENCY, MEMORY, DISK)
    return COLUMNS


@dataclass(frozen=True)
class Value:
    """One number of one row, formatted, with the raw value kept for the front."""

    text: str
    number: float | None = None
    interval: str = ""
    """The 95% interval in the value's unit, e.g. ``[54.6, 68.0]``; empty when there is none."""
    detail: str = ""
    """A short qualifier shown under the value, e.g. ``GPU`` or ``3 of 200 changed``."""
    kind: str = ""
    """What was measured, where builds can differ (memory: ``GPU`` or ``host``)."""


@dataclass(frozen=True)
class DeploymentRow:
    model_id: str
    loaded: bool
    baseline: bool = False
    noted: bool = False
    """The model ran with notes (e.g. an emulated dtype): its latency may not represent the
    build on hardware made for it."""
    build: tuple[str, ...] = ()
    """Runtime (with providers), dtype, quantization, pruning: short texts in that order."""
    flip: Value | None = None
    quality: Value | None = None
    latency: Value | None = None
    memory: Value | None = None
    disk: Value | None = None
    front: bool = False
    error: str = ""

    @property
    def build_text(self) -> str:
        return " · ".join(self.build)

    def value(self, column: Column) -> Value | None:
        found: Value | None = getattr(self, column.key)
        return found


@dataclass(frozen=True)
class Deployment:
    rows: tuple[DeploymentRow, ...]
    quality: str = ""
    """The headline metric as ``probe: metric``; empty when no probe reports one."""
    agreement_probe: str | None = None
    """The probe whose changed answers give the flip rate; ``None`` without comparisons."""
    baseline: str | None = None
    compared: tuple[Column, ...] = ()
    """The columns the front was computed on (every loaded build has a value in them)."""
    all_columns: tuple[Column, ...] = COLUMNS
    """Every column, the quality one with the headline metric's sense."""

    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns any row has a value in; a column no build has is left out."""
        return tuple(
            c for c in self.all_columns if any(row.value(c) is not None for row in self.rows)
        )

    @property
    def shows_flips(self) -> bool:
        return self.agreement_probe is not None

    @property
    def has_front(self) -> bool:
        return any(row.front for row in self.rows)

    @property
    def noted(self) -> bool:
        return any(row.noted for row in self.rows)

    @property
    def compared_labels(self) -> str:
        return ", ".join(column.label for column in self.compared)


def build_deployment(result: AuditResult) -> Deployment | None:
    """The deployment view of ``result``; ``None`` with fewer than two models (nothing to
    choose between)."""
    if len(result.models) < 2:
        return None
    headline = headline_metric(result)
    agreement_probe = _agreement_probe(result, headline[0] if headline else None)
    flips = {
        a.model_id: a
        for a in agreements(result)
        if agreement_probe is not None and a.probe_id == agreement_probe
    }
    ids = {model.model_id for model in result.models}
    baseline = result.baseline if result.baseline in ids else None
    latency_probe = _probe_declaring(result, "latency")
    resources_probe = _probe_declaring(result, "footprint")
    rows = []
    for model in result.models:
        if model.info is None:
            error = error_line(model.error) if model.error is not None else "not loaded"
            rows.append(DeploymentRow(model.model_id, loaded=False, error=error))
            continue
        is_baseline = model.model_id == baseline
        flip = flips.get(model.model_id)
        if is_baseline and agreement_probe is not None:
            flip_value: Value | None = Value("baseline")
        else:
            flip_value = _flip(flip.changed, flip.n) if flip is not None else None
        rows.append(
            DeploymentRow(
                model_id=model.model_id,
                loaded=True,
                baseline=is_baseline,
                noted=bool(model.info.notes),
                build=build_parts(model.info),
                flip=flip_value,
                quality=_quality(model, headline),
                latency=_latency(model, latency_probe),
                memory=_memory(model, resources_probe),
                disk=_disk(model, resources_probe),
            )
        )
    columns = columns_for(headline[1].direction if headline else "higher")
    compared = comparable_columns([row for row in rows if row.loaded], columns)
    front = _front(rows, compared)
    return Deployment(
        rows=tuple(replace(row, front=row.model_id in front) for row in rows),
        quality=f"{headline[0]}: {headline[1].name}" if headline else "",
        agreement_probe=agreement_probe,
        baseline=baseline,
        compared=compared,
        all_columns=columns,
    )


# --- the build ---------------------------------------------------------------------------------


def build_parts(info: ModelInfo) -> tuple[str, ...]:
    """``("onnxruntime (CUDA, CPU)", "float32", "int8-dynamic (W8A8, onnxruntime)")`` and the
    like: how the variant was built, each part short."""
    runtime = info.runtime
    providers = _providers(info.runtime_detail.get("providers", ""))
    if providers:
        runtime += f" ({', '.join(providers)})"
    parts = [runtime, info.dtype]
    if info.quantization_detail is not None:
        parts.append(quantization_text(info.quantization_detail))
    elif info.quantization:
        parts.append(info.quantization)
    if info.pruning is not None:
        parts.append(pruning_text(info.pruning))
    return tuple(parts)


def quantization_text(detail: QuantizationDetail) -> str:
    """``int4-weight-only (W4, group 128, torchao)``: scheme, bits of weights (and activations),
    group size, and what implements it."""
    bits = f"W{detail.weight_bits}"
    if detail.activation_bits is not None:
        bits += f"A{detail.activation_bits}"
    facts = [bits]
    if detail.group_size is not None:
        facts.append(f"group {detail.group_size}")
    facts.append(detail.library)
    return f"{detail.scheme} ({', '.join(facts)})"


def pruning_text(detail: PruningDetail) -> str:
    """``2:4 pruning, 50.0% zeros``: the achieved sparsity, not the target."""
    return f"{detail.method} pruning, {detail.achieved_sparsity * 100:.1f}% zeros"


def _providers(text: str) -> list[str]:
    """``CUDAExecutionProvider,CPUExecutionProvider`` (or a JSON-ish list of them) as
    ``["CUDA", "CPU"]``."""
    names = [name for name in re.split(r"[\s,;\[\]\"']+", text) if name]
    return [name.removesuffix("ExecutionProvider") or name for name in names]


# --- the numbers -------------------------------------------------------------------------------


def headline_metric(result: AuditResult) -> tuple[str, Metric] | None:
    """The quality axis: the first whole-probe metric, higher-is-better and with an interval, of
    the first probe in suite order that reports one (speed and size probes excluded), as
    (probe id, the metric as the first model reporting it has it). A suite with no such metric
    (a speech suite) takes its first error rate (word error rate: lower is better) instead."""
    for error_rate in (False, True):
        for probe_id in _probe_ids(result):
            if declared_charts(result, probe_id) & set(COST_CHARTS):
                continue
            for model in result.models:
                for metric in _ok_metrics(model, probe_id):
                    has_interval = metric.ci_low is not None and metric.ci_high is not None
                    wanted = (
                        metric.unit == "error rate" and metric.direction == "lower"
                        if error_rate
                        else metric.direction == "higher"
                    )
                    if wanted and has_interval and metric.group is None:
                        return probe_id, metric
    return None


def _agreement_probe(result: AuditResult, quality_probe: str | None) -> str | None:
    """The headline probe when it counts changed answers, else the first probe that does."""
    counted = [a.probe_id for a in agreements(result)]
    if quality_probe in counted:
        return quality_probe
    order = [*_probe_ids(result), *counted]
    return next((probe_id for probe_id in order if probe_id in counted), None)


def _flip(changed: int, n: int) -> Value:
    rate = changed / n
    return Value(f"{rate * 100:.1f}%", rate, detail=f"{changed} of {n} changed")


def _measured(metric: Metric, detail: str) -> Value:
    """A metric's value with its interval, as a cell shows it."""
    return Value(
        format_value(metric),
        _number(metric.value),
        interval=format_interval(metric),
        detail=detail,
    )


def _quality(model: ModelResult, headline: tuple[str, Metric] | None) -> Value | None:
    if headline is None:
        return None
    probe_id, first = headline
    metric = _find(model, probe_id, first.name)
    if metric is None:
        return None
    return _measured(metric, f"n={metric.n}")


def _latency(model: ModelResult, probe_id: str | None) -> Value | None:
    metric = _find(model, probe_id, LATENCY_METRIC)
    if metric is None:
        return None
    return _measured(metric, f"n={metric.n} runs")


def _memory(model: ModelResult, probe_id: str | None) -> Value | None:
    for name, kind in ((GPU_MEMORY, "GPU"), (HOST_MEMORY, "host")):
        metric = _find(model, probe_id, name)
        if metric is not None and not math.isnan(metric.value):
            return Value(format_bytes(metric.value), metric.value, detail=kind, kind=kind)
    return None


def _disk(model: ModelResult, probe_id: str | None) -> Value | None:
    if model.info is not None and model.info.bytes_on_disk > 0:
        size = float(model.info.bytes_on_disk)
        return Value(format_bytes(size), size)
    metric = _find(model, probe_id, DISK_METRIC)
    if metric is None or math.isnan(metric.value) or metric.value <= 0:
        return None
    return Value(format_bytes(metric.value), metric.value)


def _number(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else value


# --- the front ---------------------------------------------------------------------------------


def comparable_columns(
    rows: Sequence[DeploymentRow], columns: tuple[Column, ...] = COLUMNS
) -> tuple[Column, ...]:
    """The columns in which every row has a number, all of one kind; none with fewer than two
    rows, since a front of one build says nothing."""
    if len(rows) < 2:
        return ()
    compared = []
    for column in columns:
        values = [row.value(column) for row in rows]
        if any(v is None or v.number is None for v in values):
            continue
        if len({v.kind for v in values if v is not None}) == 1:
            compared.append(column)
    return tuple(compared)


def pareto_front(points: Mapping[str, Sequence[float]], senses: Sequence[Sense]) -> set[str]:
    """The names whose point no other point dominates (at least as good on every coordinate,
    strictly better on one; ``senses`` says which way each coordinate is better)."""
    return {
        name
        for name, point in points.items()
        if not any(
            dominates(other, point, senses) for rival, other in points.items() if rival != name
        )
    }


def dominates(a: Sequence[float], b: Sequence[float], senses: Sequence[Sense]) -> bool:
    """Whether ``a`` is at least as good as ``b`` everywhere and strictly better somewhere."""
    strictly = False
    for x, y, sense in zip(a, b, senses, strict=True):
        if math.isclose(x, y, rel_tol=_TIE_REL_TOL, abs_tol=0.0):
            continue
        if (x > y) != (sense == "higher"):
            return False
        strictly = True
    return strictly


def _front(rows: Sequence[DeploymentRow], compared: Sequence[Column]) -> set[str]:
    if not compared:
        return set()
    points = {row.model_id: _numbers(row, compared) for row in rows if row.loaded}
    return pareto_front(points, [c.sense for c in compared])


def _numbers(row: DeploymentRow, columns: Sequence[Column]) -> list[float]:
    """The row's numbers in ``columns``, each of which ``comparable_columns`` found filled."""
    numbers = []
    for column in columns:
        value = row.value(column)
        if value is None or value.number is None:
            raise ValueError(f"{row.model_id} has no number for {column.label}")
        numbers.append(value.number)
    return numbers


# --- reading results ---------------------------------------------------------------------------


def _probe_ids(result: AuditResult) -> list[str]:
    """The suite's probes in order, then any probe only a model knows about."""
    order = [probe.id for probe in result.probes]
    for model in result.models:
        order.extend(p.probe_id for p in model.probes if p.probe_id not in order)
    return order


def _probe_declaring(result: AuditResult, chart: ChartKind) -> str | None:
    """The first probe in suite order that declares ``chart``."""
    return next((pid for pid in _probe_ids(result) if chart in declared_charts(result, pid)), None)


def _ok_metrics(model: ModelResult, probe_id: str | None) -> list[Metric]:
    """The whole-probe metrics of a probe that ran fine on this model."""
    probe = model.probe(probe_id) if probe_id is not None and model.status == "ok" else None
    if probe is None or probe.status != "ok":
        return []
    return [metric for metric in probe.metrics if metric.group is None]


def _find(model: ModelResult, probe_id: str | None, name: str) -> Metric | None:
    return next((m for m in _ok_metrics(model, probe_id) if m.name == name), None)
