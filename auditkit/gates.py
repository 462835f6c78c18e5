"""Release gates: rules on metrics that turn an audit into pass / fail / inconclusive.

Absolute gates (``min``, ``max``) compare a metric's 95% interval with a threshold; relative gates
(``max_drop``, ``max_increase``) compare the paired difference to the baseline with a margin, as
a non-inferiority test. In both, an interval that straddles the line is *inconclusive* — never a
silent pass — and the verdict says how many items would settle it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditkit.results import GateVerdict, Metric, PairedComparison
from auditkit.stats import items_for_power, items_for_proportion

RULES = ("min", "max", "max_drop", "max_increase")


class GateSpec(BaseModel):
    """One gate on one metric of a probe. Set exactly one of the four rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = Field(description="Metric name as the probe reports it, e.g. 'accuracy'.")
    min: float | None = Field(None, description="Pass when the metric's interval is ≥ this.")
    max: float | None = Field(None, description="Pass when the metric's interval is ≤ this.")
    max_drop: float | None = Field(
        None, ge=0, description="Pass when candidate − baseline stays above −this (paired)."
    )
    max_increase: float | None = Field(
        None, ge=0, description="Pass when candidate − baseline stays below this (paired)."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> GateSpec:
        chosen = [rule for rule in RULES if getattr(self, rule) is not None]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of {', '.join(RULES)} (found {len(chosen)})")
        return self

    @property
    def rule(self) -> str:
        return next(rule for rule in RULES if getattr(self, rule) is not None)

    @property
    def threshold(self) -> float:
        value = getattr(self, self.rule)
        assert isinstance(value, float | int)
        return float(value)

    @property
    def relative(self) -> bool:
        return self.rule in ("max_drop", "max_increase")

    def describe(self, baseline: str | None) -> str:
        symbol = {"min": "≥", "max": "≤"}
        if self.rule in symbol:
            return f"{self.metric} {symbol[self.rule]} {self.threshold:g}"
        word = "drop" if self.rule == "max_drop" else "increase"
        return f"{self.metric} {word} ≤ {self.threshold:g} vs {baseline}"


class PolicySpec(BaseModel):
    """How verdicts turn into a CI result."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inconclusive: Literal["fail", "pass"] = Field(
        "fail", description="Whether an inconclusive gate fails the audit (exit code 1)."
    )
    license_gate: bool = Field(
        False,
        description="Gate every model on its license: forbidden fails, review is inconclusive.",
    )


Decision = Literal["pass", "fail", "inconclusive"]


def decide_absolute(gate: GateSpec, metric: Metric) -> tuple[Decision, int | None, str]:
    """Compare the metric's interval (or its value, when it has none) with the threshold."""
    value = metric.value
    low = metric.ci_low if metric.ci_low is not None else value
    high = metric.ci_high if metric.ci_high is not None else value
    if math.isnan(value):
        return "inconclusive", None, "the metric has no value"
    above = gate.rule == "min"
    threshold = gate.threshold
    clears = low >= threshold if above else high <= threshold
    beyond = high < threshold if above else low > threshold
    if clears:
        return "pass", None, ""
    if beyond:
        return "fail", None, "the whole interval is on the wrong side of the threshold"
    room = (value - threshold) if above else (threshold - value)  # > 0: estimate on the right side
    needed = None
    if metric.interval == "wilson":
        needed = items_for_proportion(value, threshold, above=above)
    message = "the interval straddles the threshold"
    if room <= 0:
        message += "; the estimate itself is on the wrong side"
    return "inconclusive", needed, message


def decide_relative(
    gate: GateSpec, comparison: PairedComparison, sd: float
) -> tuple[Decision, int | None, str]:
    """Non-inferiority: the interval of candidate − baseline against the margin."""
    low, high = comparison.ci_low, comparison.ci_high
    if low is None or high is None or math.isnan(comparison.difference):
        return "inconclusive", None, "no paired items to compare"
    margin = gate.threshold
    if gate.rule == "max_drop":
        if low > -margin:
            return "pass", None, ""
        if high < -margin:
            return "fail", None, f"the drop is larger than {margin:g} with 95% confidence"
        room = comparison.difference + margin
    else:
        if high < margin:
            return "pass", None, ""
        if low > margin:
            return "fail", None, f"the increase is larger than {margin:g} with 95% confidence"
        room = margin - comparison.difference
    needed = items_for_power(sd, room)
    message = "the interval of the difference straddles the margin"
    if needed is None:
        message += "; the estimate itself is beyond the margin"
    return "inconclusive", needed, message


def verdict(
    gate: GateSpec,
    *,
    model_id: str,
    probe_id: str,
    baseline: str | None,
    decision: tuple[Decision, int | None, str] | None,
    metric: Metric | None = None,
    comparison: PairedComparison | None = None,
    error: str = "",
    line: int | None = None,
) -> GateVerdict:
    """Assemble a ``GateVerdict``; ``decision`` is ``None`` when the gate could not be evaluated."""
    evidence: dict[str, float | int | None] = {}
    if comparison is not None:
        evidence = {
            "estimate": comparison.difference,
            "ci_low": comparison.ci_low,
            "ci_high": comparison.ci_high,
            "p_value": comparison.p_value,
            "n": comparison.n,
        }
    elif metric is not None:
        evidence = {
            "estimate": metric.value,
            "ci_low": metric.ci_low,
            "ci_high": metric.ci_high,
            "n": metric.n,
        }
    status, needed, message = decision if decision else ("error", None, error)
    return GateVerdict(
        model_id=model_id,
        probe_id=probe_id,
        metric=gate.metric,
        rule=gate.describe(baseline),
        status=status,
        n_needed=needed,
        message=message,
        suite_line=line,
        **evidence,
    )
