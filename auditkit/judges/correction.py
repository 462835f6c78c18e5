"""Judged rates corrected for the judge's measured error (Rogan–Gladen).

A judge that says "L" for a reply has sensitivity Se = P(says L | truly L) and specificity
Sp = P(does not say L | truly not L), measured on its held-out set (``auditkit.judges.card``).
If a share p of the audit's replies were judged L, the share π truly L satisfies
p = Se·π + (1 − Sp)·(1 − π), so

    π̂ = (p + Sp − 1) / (Se + Sp − 1),   clipped to [0, 1];

undefined (NaN) when Se + Sp ≤ 1, a judge no better than chance. The 95% interval is a seeded
percentile bootstrap over both levels, so it carries the judge's own uncertainty as well as the
sampling of items: each of 2000 draws takes p, Se and Sp afresh and applies the formula. A share
of k in n (Se, Sp, and p when every item is 0 or 1) is drawn from its Jeffreys posterior
Beta(k + ½, n − k + ½), so 0 of n or n of n still has width (a plain resample of 20 hits out of
20 is always 20 of 20); p of fractional per-item scores (a share of an item's samples) is the
mean of a resample of the items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from auditkit.judges.card import MeasuredJudge
from auditkit.results import Direction, Metric, Unit

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
    unit: Unit = "share",
) -> Metric:
    """The Rogan–Gladen twin of the mean of ``hits`` (per item: 1 when the judge said ``label``,
    or a share of an item's judged samples), with the two-level bootstrap interval; ``unit`` is
    the raw metric's, so that the twin reads like it (a share, or a mean of shares)."""
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
        if np.isin(values, (0.0, 1.0)).all():
            p = _jeffreys(rng, int(values.sum()), n)
        else:
            p = values[rng.integers(0, n, (RESAMPLES, n))].mean(axis=1)
        se = _jeffreys(rng, int(positives.sum()), int(positives.size))
        sp = _jeffreys(rng, int(negatives.sum()), int(negatives.size))
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
        interval="corrected-bootstrap",
        interval_detail=f"the {card.judge} judge's {card.n} held-out rows",
        description=description,
        per_item=None,
        group=group,
        unit=unit,
    )


def _jeffreys(rng: np.random.Generator, successes: int, n: int) -> np.ndarray:
    """``RESAMPLES`` draws of a proportion from its Jeffreys posterior Beta(k + ½, n − k + ½)."""
    return rng.beta(successes + 0.5, n - successes + 0.5, RESAMPLES)
