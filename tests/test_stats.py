"""Interval estimates: Wilson for proportions, seeded percentile bootstrap for other means."""

from __future__ import annotations

import math

import numpy as np
import pytest

from auditkit.stats import Z_95, bootstrap_interval, bootstrap_mean_interval, wilson_interval
from tests.helpers_suites import wilson


def test_z_is_the_two_sided_95_percent_quantile() -> None:
    from statistics import NormalDist

    assert pytest.approx(NormalDist().inv_cdf(0.975), abs=1e-12) == Z_95


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # Well-known values (e.g. Agresti & Coull 1998; any Wilson calculator).
        (0, 10, (0.0, 0.27753)),
        (10, 10, (0.72247, 1.0)),
        (5, 10, (0.23659, 0.76341)),
        (81, 263, (0.25529, 0.36621)),
        (1, 1, (0.20655, 1.0)),
    ],
)
def test_wilson_known_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    assert wilson_interval(successes, n) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize(
    ("successes", "n"), [(0, 10), (10, 10), (5, 10), (81, 263), (3, 7), (0, 1)]
)
def test_wilson_matches_the_textbook_formula(successes: int, n: int) -> None:
    assert wilson_interval(successes, n) == pytest.approx(wilson(successes, n), abs=1e-12)


def test_wilson_with_another_level() -> None:
    z_90 = 1.6448536269514722
    assert wilson_interval(5, 10, z=z_90) == pytest.approx(wilson(5, 10, level=0.90), abs=1e-12)


def test_wilson_is_symmetric_and_contains_the_estimate() -> None:
    low, high = wilson_interval(3, 20)
    mirror_low, mirror_high = wilson_interval(17, 20)

    assert (low, high) == pytest.approx((1 - mirror_high, 1 - mirror_low), abs=1e-12)
    assert low < 3 / 20 < high


def test_wilson_of_no_items_is_nan() -> None:
    low, high = wilson_interval(0, 0)

    assert math.isnan(low)
    assert math.isnan(high)


@pytest.mark.parametrize(("successes", "n"), [(-1, 10), (11, 10), (1, -1)])
def test_wilson_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError, match=r"successes must lie in \[0, n\]"):
        wilson_interval(successes, n)


SAMPLE = [0.1, 0.9, 0.4, 0.7, 0.2, 0.8, 0.5, 0.3, 0.6, 1.0]


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    first = bootstrap_mean_interval(SAMPLE, seed=42)

    assert bootstrap_mean_interval(SAMPLE, seed=42) == first
    assert bootstrap_mean_interval(SAMPLE, seed=43) != first


def test_bootstrap_contains_the_mean_and_lies_within_the_data() -> None:
    low, high = bootstrap_mean_interval(SAMPLE, seed=1)

    assert min(SAMPLE) < low < float(np.mean(SAMPLE)) < high < max(SAMPLE)


def test_a_wider_level_gives_a_wider_interval() -> None:
    low_90, high_90 = bootstrap_mean_interval(SAMPLE, seed=1, level=0.90)
    low_99, high_99 = bootstrap_mean_interval(SAMPLE, seed=1, level=0.99)

    assert low_99 < low_90 < high_90 < high_99


def test_bootstrap_of_constant_data_collapses() -> None:
    assert bootstrap_mean_interval([0.25] * 8, seed=3) == (0.25, 0.25)


def test_bootstrap_of_no_data_is_nan() -> None:
    low, high = bootstrap_mean_interval([], seed=1)

    assert math.isnan(low)
    assert math.isnan(high)


def test_bootstrap_interval_passes_index_arrays_into_the_caller_data() -> None:
    data = np.array(SAMPLE)
    seen: list[np.ndarray] = []

    def statistic(idx: np.ndarray) -> float:
        seen.append(idx)
        return float(data[idx].mean())

    result = bootstrap_interval(statistic, data.size, seed=5, resamples=50)

    assert len(seen) == 50
    assert all(idx.shape == (10,) and idx.min() >= 0 and idx.max() < 10 for idx in seen)
    assert result == bootstrap_mean_interval(SAMPLE, seed=5, resamples=50)
