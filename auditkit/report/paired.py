"""Paired differences to the baseline and variant agreement, formatted for both renderers.

The numbers come from ``AuditResult.comparisons`` as they are; this module only decides how a
difference is written (percentage points for proportions), whether it is significant, and whether
it is a change for the better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from auditkit.results import AuditResult, Direction, PairedComparison

SIGNIFICANCE = 0.05
"""A difference whose paired test gives p below this is marked significant."""

SIGNIFICANT_MARK = "*"
MINUS = "−"
"""Typographic minus: a hyphen reads as a dash next to a Δ."""

Tone = Literal["better", "worse", "neutral"]

ComparisonKey = tuple[str, str, str]
"""(model id, probe id, metric name)."""


@dataclass(frozen=True)
class Delta:
    """One candidate's difference to the baseline on one metric, ready to print."""

    text: str
    """E.g. ``Δ −19.5 pts [−26.1, −12.9]`` or ``Δ +0.349 [0.120, 0.578]``."""
    significant: bool
    tone: Tone
    """``better``/``worse`` only for a significant difference on a metric with a direction."""
    title: str
    """Longer explanation for a tooltip: what was compared, on how many items, and p."""


@dataclass(frozen=True)
class Agreement:
    """How often a candidate answered exactly as the baseline did, on one probe."""

    model_id: str
    probe_id: str
    baseline: str
    changed: int
    n: int

    @property
    def share(self) -> float:
        return 1 - self.changed / self.n

    @property
    def flip_rate(self) -> float:
        """Share of items whose answer changed against the baseline's (1 − ``share``)."""
        return self.changed / self.n

    @property
    def percent(self) -> str:
        return f"{self.share * 100:.1f}%"

    @property
    def detail(self) -> str:
        return f"{self.n - self.changed} of {self.n} items identical ({self.changed} changed)"


def comparisons_by_key(result: AuditResult) -> dict[ComparisonKey, PairedComparison]:
    """The first comparison per (model, probe, metric); later duplicates are ignored."""
    found: dict[ComparisonKey, PairedComparison] = {}
    for comparison in result.comparisons:
        found.setdefault((comparison.model_id, comparison.probe_id, comparison.metric), comparison)
    return found


def signed(text: str) -> str:
    """Swap the ASCII hyphen-minus for a real minus sign."""
    return text.replace("-", MINUS)


def _number(value: float, points: bool, sign: str = "") -> str:
    if points:
        return signed(f"{value * 100:{sign}.1f}")
    if value != 0 and abs(value) < 0.001:
        return signed(f"{value:{sign}.3g}")
    return signed(f"{value:{sign}.3f}")


def format_p(p_value: float | None) -> str:
    """``p = 0.031``, ``p < 0.001``, or an empty string when there is no test."""
    if p_value is None or math.isnan(p_value):
        return ""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3f}"


def is_significant(comparison: PairedComparison) -> bool:
    p = comparison.p_value
    return p is not None and not math.isnan(p) and p < SIGNIFICANCE


def tone_of(difference: float, direction: Direction, significant: bool) -> Tone:
    if not significant or direction == "none" or difference == 0:
        return "neutral"
    better = difference > 0 if direction == "higher" else difference < 0
    return "better" if better else "worse"


def format_delta(comparison: PairedComparison, points: bool, direction: Direction) -> Delta | None:
    """The difference as ``Δ``-text; ``None`` when it is not a number."""
    diff = comparison.difference
    if math.isnan(diff) or math.isinf(diff):
        return None
    unit = " pts" if points else ""
    text = f"Δ {_number(diff, points, '+')}{unit}"
    low, high = comparison.ci_low, comparison.ci_high
    if low is not None and high is not None:
        text += f" [{_number(low, points)}, {_number(high, points)}]"
    significant = is_significant(comparison)
    p_text = format_p(comparison.p_value)
    title = (
        f"{comparison.model_id} − {comparison.baseline} on {comparison.n} paired items "
        f"({comparison.method})" + (f"; {p_text}" if p_text else "")
    )
    return Delta(
        text=text,
        significant=significant,
        tone=tone_of(diff, direction, significant),
        title=title,
    )


def agreements(result: AuditResult) -> list[Agreement]:
    """One entry per (candidate, probe) that has a comparison counting changed outputs."""
    found: dict[tuple[str, str], Agreement] = {}
    for c in result.comparisons:
        if c.changed is None or c.n <= 0 or (c.model_id, c.probe_id) in found:
            continue
        changed = min(max(c.changed, 0), c.n)
        found[(c.model_id, c.probe_id)] = Agreement(
            model_id=c.model_id, probe_id=c.probe_id, baseline=c.baseline, changed=changed, n=c.n
        )
    return list(found.values())
