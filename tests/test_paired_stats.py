"""Paired comparisons against scipy on known tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from auditkit.stats import items_for_power, mcnemar_exact_p, paired_difference, sign_flip_p


@pytest.mark.parametrize(("b", "c"), [(0, 0), (1, 0), (5, 1), (10, 10), (3, 17), (40, 25)])
def test_exact_mcnemar_equals_a_two_sided_binomial_test(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else scipy_stats.binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact_p(b, c) == pytest.approx(expected, rel=1e-12)


def test_paired_difference_on_a_known_binary_table() -> None:
    # 30 items both right, 12 only the candidate right, 5 only the baseline, 3 both wrong.
    candidate = [1] * 30 + [1] * 12 + [0] * 5 + [0] * 3
    baseline = [1] * 30 + [0] * 12 + [1] * 5 + [0] * 3
    diff = paired_difference(candidate, baseline, seed=3)
    assert diff.difference == pytest.approx((12 - 5) / 50)
    assert diff.p_value == pytest.approx(scipy_stats.binomtest(5, 17, 0.5).pvalue)
    assert diff.n == 50
    assert diff.ci_low < diff.difference < diff.ci_high
    assert "McNemar" in diff.method
    assert paired_difference(candidate, baseline, seed=3) == diff


def test_continuous_scores_use_a_permutation_test() -> None:
    rng = np.random.default_rng(0)
    baseline = rng.normal(0.5, 0.1, 80)
    shifted = paired_difference(baseline + 0.05, baseline, seed=1)
    assert shifted.difference == pytest.approx(0.05)
    assert shifted.ci_low == pytest.approx(0.05) and shifted.ci_high == pytest.approx(0.05)
    assert shifted.p_value < 0.001
    assert "sign-flip" in shifted.method
    noise = paired_difference(baseline + rng.normal(0, 0.1, 80), baseline, seed=1)
    assert noise.p_value > 0.05


def test_sign_flip_p_agrees_with_scipy_permutation_test() -> None:
    rng = np.random.default_rng(5)
    diffs = rng.normal(0.15, 1.0, 40)
    ours = sign_flip_p(diffs, seed=2, resamples=20_000)
    theirs = scipy_stats.permutation_test(
        (diffs,),
        np.mean,
        permutation_type="samples",
        n_resamples=20_000,
        random_state=2,
    ).pvalue
    assert ours == pytest.approx(theirs, abs=0.02)


def test_identical_models_differ_by_nothing() -> None:
    diff = paired_difference([1, 0, 1, 1], [1, 0, 1, 1], seed=0)
    assert (diff.difference, diff.ci_low, diff.ci_high, diff.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_mismatched_items_are_refused() -> None:
    with pytest.raises(ValueError, match="same items"):
        paired_difference([1, 0], [1], seed=0)


def test_items_for_power() -> None:
    assert items_for_power(0.5, 0.05) == 785  # ((1.96 + 0.8416) · 0.5 / 0.05)^2 = 784.9
    assert items_for_power(0.5, 0.0) is None
    assert items_for_power(0.0, 0.1) == 1
