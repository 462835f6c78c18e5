"""Turn finished results into comparisons, license reports and gate verdicts.

Reads only an ``AuditResult`` and its ``samples.jsonl``, so ``auditkit gate`` can re-judge a saved
audit (with a changed suite, say) without loading a model. A verdict must rest on every record,
so a bad ``samples.jsonl`` line is an error here, never skipped (``auditkit.samples_schema``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.gates import GateSpec, PolicySpec, decide_absolute, decide_relative, verdict
from auditkit.results import (
    AuditResult,
    GateVerdict,
    LicenseReport,
    ModelResult,
    PairedComparison,
)
from auditkit.samples_schema import SampleRecord
from auditkit.samples_schema import read_samples as read_sample_file
from auditkit.stats import paired_difference


@dataclass(frozen=True)
class GateDef:
    """A gate as the suite places it: on which probe, and on which line of the suite file."""

    probe_id: str
    gate: GateSpec
    line: int | None = None


@dataclass(frozen=True)
class _Item:
    output: str
    scores: dict[str, float]


SampleIndex = dict[tuple[str, str], dict[str, _Item]]
"""(model id, probe id) → item id → what the model answered and how it scored."""


def index_samples(records: Sequence[SampleRecord]) -> SampleIndex:
    index: SampleIndex = {}
    for record in records:
        index.setdefault((record.model_id, record.probe_id), {})[record.item_id] = _Item(
            record.output, {key: float(value) for key, value in record.scores.items()}
        )
    return index


def read_samples(path: Path) -> list[SampleRecord]:
    """The records of a ``samples.jsonl`` (missing file: none); a bad line raises a
    ``UserError`` naming the file and line."""
    return read_sample_file(path, strict=True).records


def gates_from_result(result: AuditResult) -> list[GateDef]:
    """The gates recorded with the results (the suite's gates at run time)."""
    return [
        GateDef(probe.id, GateSpec.model_validate(gate))
        for probe in result.probes
        for gate in probe.params.get("gates", [])
    ]


def compare_to_baseline(
    result: AuditResult, samples: SampleIndex, seed: int
) -> tuple[list[PairedComparison], dict[tuple[str, str, str], float]]:
    """Paired comparisons of every model with the baseline, for every per-item metric.

    Returns the comparisons and, per (model, probe, metric), the sd of the per-item differences.
    """
    comparisons: list[PairedComparison] = []
    spread: dict[tuple[str, str, str], float] = {}
    baseline = next((m for m in result.models if m.model_id == result.baseline), None)
    if baseline is None or baseline.status != "ok":
        return comparisons, spread
    for model in result.models:
        if model.model_id == baseline.model_id or model.status != "ok":
            continue
        for probe in model.probes:
            base_probe = baseline.probe(probe.probe_id)
            if probe.status != "ok" or base_probe is None or base_probe.status != "ok":
                continue
            ours = samples.get((model.model_id, probe.probe_id), {})
            theirs = samples.get((baseline.model_id, probe.probe_id), {})
            shared = sorted(set(ours) & set(theirs))
            changed = sum(ours[i].output != theirs[i].output for i in shared)
            for metric in probe.metrics:
                if metric.group is not None or metric.per_item is None:
                    continue
                key = metric.per_item
                items = [i for i in shared if key in ours[i].scores and key in theirs[i].scores]
                diff = paired_difference(
                    [ours[i].scores[key] for i in items],
                    [theirs[i].scores[key] for i in items],
                    seed=seed,
                )
                comparisons.append(
                    PairedComparison(
                        model_id=model.model_id,
                        probe_id=probe.probe_id,
                        metric=metric.name,
                        baseline=baseline.model_id,
                        difference=diff.difference,
                        ci_low=None if math.isnan(diff.ci_low) else diff.ci_low,
                        ci_high=None if math.isnan(diff.ci_high) else diff.ci_high,
                        p_value=None if math.isnan(diff.p_value) else diff.p_value,
                        n=diff.n,
                        method=diff.method,
                        changed=changed if items else None,
                    )
                )
                spread[(model.model_id, probe.probe_id, metric.name)] = diff.sd
    return comparisons, spread


def assess_licenses(result: AuditResult) -> list[LicenseReport]:
    from auditkit.licenses import assess_license

    reports = []
    for model in result.models:
        if model.info is None:
            continue
        assessment = assess_license(model.info.license, result.intended_use)
        reports.append(LicenseReport(model_id=model.model_id, **assessment.model_dump()))
    return reports


def _gate_verdicts(
    result: AuditResult,
    gates: Sequence[GateDef],
    comparisons: list[PairedComparison],
    spread: dict[tuple[str, str, str], float],
) -> list[GateVerdict]:
    found = {(c.model_id, c.probe_id, c.metric): c for c in comparisons}
    return [
        _judge(result, gate_def, model, found, spread)
        for gate_def in gates
        for model in result.models
        if not (gate_def.gate.relative and model.model_id == result.baseline)
    ]


def _judge(
    result: AuditResult,
    gate_def: GateDef,
    model: ModelResult,
    found: dict[tuple[str, str, str], PairedComparison],
    spread: dict[tuple[str, str, str], float],
) -> GateVerdict:
    gate, probe_id = gate_def.gate, gate_def.probe_id
    common: dict[str, Any] = {
        "model_id": model.model_id,
        "probe_id": probe_id,
        "baseline": result.baseline,
        "line": gate_def.line,
    }
    probe = model.probe(probe_id)
    if model.status != "ok":
        return verdict(gate, decision=None, error="the model failed to load", **common)
    if probe is None or probe.status != "ok":
        return verdict(gate, decision=None, error=f"probe {probe_id!r} did not run", **common)
    metric = probe.metric(gate.metric)
    if metric is None:
        names = ", ".join(sorted({m.name for m in probe.metrics}))
        return verdict(
            gate, decision=None, error=f"no metric {gate.metric!r} (has: {names})", **common
        )
    if not gate.relative:
        return verdict(gate, decision=decide_absolute(gate, metric), metric=metric, **common)
    if result.baseline is None:
        return verdict(
            gate, decision=None, error="a relative gate needs the suite's 'baseline'", **common
        )
    key = (model.model_id, probe_id, gate.metric)
    comparison = found.get(key)
    if comparison is None:
        error = f"no paired comparison with {result.baseline} for this metric"
        return verdict(gate, decision=None, error=error, **common)
    decision = decide_relative(gate, comparison, spread.get(key, 0.0))
    return verdict(gate, decision=decision, comparison=comparison, **common)


def _license_verdicts(licenses: list[LicenseReport], intended_use: str) -> list[GateVerdict]:
    status = {"allowed": "pass", "review": "inconclusive", "forbidden": "fail"}
    return [
        GateVerdict(
            model_id=report.model_id,
            probe_id=None,
            metric="license",
            rule=f"license allows {intended_use} use",
            status=status[report.verdict],
            message=f"{report.id}: {report.verdict}; " + " ".join(report.reasons),
        )
        for report in licenses
    ]


def judge_audit(
    result: AuditResult,
    gates: Sequence[GateDef],
    policy: PolicySpec,
    samples: Sequence[SampleRecord],
) -> AuditResult:
    """``result`` with its comparisons, license reports and gate verdicts (re)computed."""
    comparisons, spread = compare_to_baseline(result, index_samples(samples), result.seed)
    licenses = assess_licenses(result)
    verdicts = _gate_verdicts(result, gates, comparisons, spread)
    if policy.license_gate:
        verdicts += _license_verdicts(licenses, result.intended_use)
    return result.model_copy(
        update={
            "comparisons": comparisons,
            "licenses": licenses,
            "verdicts": verdicts,
            "inconclusive_fails": policy.inconclusive == "fail",
            "license_gate": policy.license_gate,
        }
    )
