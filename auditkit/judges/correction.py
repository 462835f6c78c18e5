"""Judged rates corrected for the judge's measured error (Rogan–Gladen).

A judge that says "L" for a reply has sensitivity Se = P(says L | truly L) and specificity
Sp = P(does not say L | truly not L), measured on its validation set (``auditkit.judges.card``).
If a share p of the audit's replies were judged L, the share π truly L satisfies
p = Se·π + (1 − Sp)·(1 − π), so

    π̂ = (p + Sp − 1) / (Se + Sp − 1),   clipped to [0, 1];

undefined (NaN) when Se + Sp ≤ 1, a judge no better than chance. The 95% interval is a seeded
percentile bootstrap that resamples both the audit's items and the judge's validation rows, so it
carries the judge's own uncertainty as well as the sampling of items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from auditkit.judges.card import MeasuredJudge
from auditkit.results import Direction, Metric

RESAMPLES = 2000


def rogan_gladen(p: float, sensitivity: float, specificity: float) -> float:
    """The corrected share (see the module docstring); NaN when Se + Sp ≤ 1."""
    denominator = sensitivity + specificity - 1
    if not denominator > 0 or math.isnan(p):
        return math.nan
    return min(1.0, max(0.0, (p + specificity - 1) / denominator))


def corrected_rate(
    name: str,
    hits: Sequence[float],
    *,
    card: MeasuredJudge,
    label: str,
    seed: int,
    direction: Direction,
    description: str,
    group: str | None = None,
) -> Metric:
    """The Rogan–Gladen twin of the mean of ``hits`` (per item: 1 when the judge said ``label``,
    or a share of an item's judged samples), with the two-level bootstrap interval."""
    values = np.asarray(hits, dtype=np.float64)
    truth = np.array([t == label for t, _ in card.pairs])
    said = np.array([v == label for _, v in card.pairs])
    positives, negatives = said[truth], ~said[~truth]
    n = int(values.size)
    if n == 0 or positives.size == 0 or negatives.size == 0:
        value, low, high = math.nan, math.nan, math.nan
    else:
        value = rogan_gladen(float(values.mean()), positives.mean(), negatives.mean())
        rng = np.random.default_rng(seed)
        p = values[rng.integers(0, n, (RESAMPLES, n))].mean(axis=1)
        se = positives[rng.integers(0, positives.size, (RESAMPLES, positives.size))].mean(axis=1)
        sp = negatives[rng.integers(0, negatives.size, (RESAMPLES, negatives.size))].mean(axis=1)
        draws = np.array([rogan_gladen(*args) for args in zip(p, se, sp, strict=True)])
        draws = draws[~np.isnan(draws)]
        low, high = (
            (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))
            if draws.size
            else (math.nan, math.nan)
        )
    return Metric(
        name=name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=n,
        direction=direction,
        interval=f"bootstrap over items and the {card.judge} judge's {card.n} validation rows",
        description=description,
        per_item=None,
        group=group,
    )
