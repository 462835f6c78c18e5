"""The audit's verdict and the gates table, formatted once for the HTML, Markdown and JUnit reports.

Nothing here judges a gate: every status and number comes from ``AuditResult.verdicts``. This
module only sums them up into one overall verdict and writes the evidence in words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from auditkit.metric_format import format_number
from auditkit.report.paired import format_p, signed
from auditkit.results import AuditResult, GateStatus, GateVerdict

Overall = Literal["pass", "fail", "inconclusive", "none"]

LABELS: dict[Overall, str] = {
    "pass": "PASS",
    "fail": "FAIL",
    "inconclusive": "INCONCLUSIVE",
    "none": "NO GATES",
}

STATUS_ORDER: tuple[GateStatus, ...] = ("fail", "error", "inconclusive", "pass")
"""Most urgent first: the order of the counts and of the gates table."""

LICENSE_CLASS = "license"
"""What stands in for the probe of a license gate."""


@dataclass(frozen=True)
class Banner:
    """The one-line answer at the top of every report."""

    overall: Overall
    label: str
    headline: str
    """The verdict in words, e.g. ``2 of 7 gates failed``."""
    counts: tuple[tuple[GateStatus, int], ...]
    """Gates per status, most urgent first, statuses with no gates left out."""
    policy: str
    """How inconclusive gates count, when there are any."""
    run: str
    """Models, probes and run errors, e.g. ``3 models · 2 probes · 1 run error``."""
    run_errors: int

    @property
    def counts_text(self) -> str:
        return " · ".join(f"{n} {status}" for status, n in self.counts)


@dataclass(frozen=True)
class GateRow:
    """One verdict as the gates table shows it."""

    model_id: str
    probe: str
    rule: str
    status: GateStatus
    estimate: str
    """Point estimate in the rule's units; empty without evidence."""
    interval: str
    """Its 95% interval, e.g. ``[0.371, 0.455]``; empty without one."""
    p_value: str
    n: str
    needed: str
    """``needs ≈ N items`` for an inconclusive gate with a power estimate."""
    message: str
    suite_line: int | None


def overall_status(result: AuditResult) -> Overall:
    """PASS only when every gate passes; a gate that could not be evaluated fails the audit."""
    if not result.verdicts:
        return "none"
    statuses = {v.status for v in result.verdicts}
    if result.gate_failed or "error" in statuses:
        return "fail"
    if "inconclusive" in statuses:
        return "inconclusive"
    return "pass"


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def build_banner(result: AuditResult) -> Banner:
    overall = overall_status(result)
    tally = {status: 0 for status in STATUS_ORDER}
    for verdict in result.verdicts:
        tally[verdict.status] += 1
    counts = tuple((status, tally[status]) for status in STATUS_ORDER if tally[status])
    run_errors = len(result.errors)
    run = (
        f"{plural(len(result.models), 'model')} · {plural(len(result.probes), 'probe')} · "
        f"{plural(run_errors, 'run error')}"
    )
    policy = ""
    if tally["inconclusive"]:
        policy = (
            "inconclusive gates fail the audit"
            if result.inconclusive_fails
            else "inconclusive gates do not fail the audit"
        )
    return Banner(
        overall=overall,
        label=LABELS[overall],
        headline=_headline(overall, tally, len(result.verdicts)),
        counts=counts,
        policy=policy,
        run=run,
        run_errors=run_errors,
    )


def _headline(overall: Overall, tally: dict[GateStatus, int], total: int) -> str:
    if overall == "none":
        return "no gates were set"
    if overall == "pass":
        return "the gate passes" if total == 1 else f"all {total} gates pass"
    if overall == "inconclusive":
        return f"{tally['inconclusive']} of {total} inconclusive, none failed"
    parts = []
    if tally["fail"]:
        parts.append(f"{tally['fail']} of {total} failed")
    if tally["error"]:
        parts.append(f"{tally['error']} could not be evaluated")
    if not parts:  # only inconclusive gates, and they count as failing
        parts.append(f"{tally['inconclusive']} of {total} inconclusive")
    return ", ".join(parts)


def format_estimate(verdict: GateVerdict) -> str:
    """``0.412 [0.371, 0.455]`` in the rule's own units, or empty when there is no estimate."""
    value, interval = estimate_parts(verdict)
    return f"{value} {interval}" if value and interval else value


def estimate_parts(verdict: GateVerdict) -> tuple[str, str]:
    """The estimate and its interval, apart; both empty when there is no estimate."""
    value = verdict.estimate
    if value is None or math.isnan(value):
        return "", ""
    interval = ""
    if verdict.ci_low is not None and verdict.ci_high is not None:
        low, high = format_number(verdict.ci_low), format_number(verdict.ci_high)
        interval = f"[{signed(low)}, {signed(high)}]"
    return signed(format_number(value)), interval


def needed_text(verdict: GateVerdict) -> str:
    if verdict.status != "inconclusive" or verdict.n_needed is None:
        return ""
    return f"needs ≈ {verdict.n_needed:,} items"


def gate_rows(result: AuditResult) -> list[GateRow]:
    """Every verdict, failing ones first, otherwise in the order they were judged."""
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    ordered = sorted(result.verdicts, key=lambda v: rank[v.status])
    return [
        GateRow(
            model_id=v.model_id,
            probe=v.probe_id if v.probe_id is not None else LICENSE_CLASS,
            rule=v.rule,
            status=v.status,
            estimate=estimate_parts(v)[0],
            interval=estimate_parts(v)[1],
            p_value=format_p(v.p_value),
            n=f"{v.n:,}" if v.n is not None else "",
            needed=needed_text(v),
            message=v.message,
            suite_line=v.suite_line,
        )
        for v in ordered
    ]
