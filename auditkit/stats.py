"""Interval estimates and paired comparisons.

Proportions get the Wilson score interval (good coverage at small n and near 0 or 1, unlike the
normal approximation); other means get a seeded percentile bootstrap so the same data and seed
always give the same interval. Two models scored on the same items are compared item by item
(paired), which is far more sensitive than comparing their two intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z_95 = 1.959963984540054
Z_80_POWER = 0.8416212335729143
BOOTSTRAP_RESAMPLES = 1000
"""Resamples of a percentile bootstrap interval, unless a caller asks for another number."""


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / n``.

    Returns ``(nan, nan)`` when ``n == 0``: there is no estimate to bound.
    """
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]; got {successes} of {n}")
    low, high = _wilson_at(successes / n, n, z)
    # At 0 or n successes the interval touches the bound exactly (avoid 0.9999999999999999).
    return (0.0 if successes == 0 else low, 1.0 if successes == n else high)


def _wilson_at(p: float, n: int, z: float) -> tuple[float, float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def items_for_proportion(
    p: float, threshold: float, *, above: bool, limit: int = 10**7
) -> int | None:
    """Items for a 95% Wilson interval around a true proportion ``p`` to clear ``threshold``
    with about 80% power (the interval is widened to z = 1.96 + 0.84).

    Handles proportions at 0 or 1, where a normal-approximation formula says "1 item".
    ``None`` when ``p`` is not on the passing side of the threshold.
    """
    if (p <= threshold) if above else (p >= threshold):
        return None
    z = Z_95 + Z_80_POWER

    def clears(n: int) -> bool:
        low, high = _wilson_at(p, n, z)
        return low >= threshold if above else high <= threshold

    if not clears(limit):
        return None
    low, high = 1, limit
    while low < high:  # the smallest n that clears: the bounds tighten as n grows
        middle = (low + high) // 2
        if clears(middle):
            high = middle
        else:
            low = middle + 1
    return low


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over items resampled with
    replacement. ``statistic`` receives an index array into the caller's per-item data."""
    if n == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(resamples)])
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return (float(low), float(high))


def bootstrap_mean_interval(
    values: Sequence[float],
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    data = np.asarray(values, dtype=np.float64)
    return bootstrap_interval(
        lambda idx: float(data[idx].mean()), data.size, seed=seed, resamples=resamples, level=level
    )


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """Expected calibration error of top-choice ``confidence`` against ``correct`` (0 or 1)
    over ``bins`` equal-width confidence bins (NaN with no items).

    Σ_b (n_b / n) |mean(correct_b) − mean(confidence_b)| = Σ_b |Σ_b (correct − confidence)| / n.
    """
    if confidence.size == 0:
        return math.nan
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = np.bincount(which, weights=correct - confidence, minlength=bins)
    return float(np.abs(gaps).sum() / confidence.size)


@dataclass(frozen=True)
class PairedDifference:
    """Candidate minus baseline over paired items, with its interval and a two-sided p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    sd: float
    """Standard deviation of the per-item differences (for sample-size estimates)."""


def mcnemar_exact_p(candidate_only: int, baseline_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts.

    Under the null, each discordant item is equally likely to favour either model, so the count
    favouring the candidate is Binomial(b + c, 1/2).
    """
    discordant = candidate_only + baseline_only
    if discordant == 0:
        return 1.0
    tail = stats.binom.cdf(min(candidate_only, baseline_only), discordant, 0.5)
    return float(min(1.0, 2.0 * tail))


def sign_flip_p(differences: np.ndarray, *, seed: int, resamples: int = 10_000) -> float:
    """Two-sided paired permutation p-value: randomly flip the sign of each item's difference."""
    observed = abs(float(differences.mean()))
    if observed == 0.0:
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, differences.size))
    flipped = np.abs((signs * differences).mean(axis=1))
    # The +1s count the observed assignment itself, so the p-value is never exactly 0.
    return float((1 + np.count_nonzero(flipped >= observed - 1e-12)) / (1 + resamples))


def paired_difference(
    candidate: Sequence[float], baseline: Sequence[float], *, seed: int, resamples: int = 2000
) -> PairedDifference:
    """Mean of candidate − baseline over the same items.

    Interval: percentile paired bootstrap (items resampled with both models' scores together).
    p-value: exact McNemar when every score is 0 or 1, else a sign-flip permutation test.
    """
    cand = np.asarray(candidate, dtype=np.float64)
    base = np.asarray(baseline, dtype=np.float64)
    if cand.shape != base.shape:
        raise ValueError("paired scores need the same items for both models")
    n = int(cand.size)
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, math.nan, 0, "no paired items", 0.0)
    diffs = cand - base
    binary = bool(np.isin(cand, (0.0, 1.0)).all() and np.isin(base, (0.0, 1.0)).all())
    low, high = bootstrap_interval(
        lambda idx: float(diffs[idx].mean()), n, seed=seed, resamples=resamples
    )
    if binary:
        p_value = mcnemar_exact_p(
            int(((cand == 1) & (base == 0)).sum()), int(((cand == 0) & (base == 1)).sum())
        )
        method = "paired bootstrap interval; exact McNemar test"
    else:
        p_value = sign_flip_p(diffs, seed=seed)
        method = "paired bootstrap interval; sign-flip permutation test"
    sd = float(diffs.std(ddof=1)) if n > 1 else 0.0
    return PairedDifference(float(diffs.mean()), low, high, p_value, n, method, sd)


def items_for_power(sd: float, room: float, power_z: float = Z_80_POWER) -> int | None:
    """Items needed for a 95% interval to clear a margin ``room`` away, with 80% power.

    ``room`` is the distance between the expected estimate and the margin; ``None`` when it is
    not positive (more items would only confirm the estimate is on the wrong side).
    """
    if room <= 0:
        return None
    if sd == 0:
        return 1
    return math.ceil(((Z_95 + power_z) * sd / room) ** 2)
