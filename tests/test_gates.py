"""Gate decisions, and their error rates checked by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from auditkit.gates import GateSpec, decide_absolute, decide_relative
from auditkit.results import Metric, PairedComparison
from auditkit.stats import paired_difference


def metric(value: float, low: float | None, high: float | None, interval: str = "wilson") -> Metric:
    return Metric(
        name="accuracy",
        value=value,
        ci_low=low,
        ci_high=high,
        n=100,
        direction="higher",
        interval=interval,
    )


def comparison(difference: float, low: float, high: float) -> PairedComparison:
    return PairedComparison(
        model_id="c",
        probe_id="p",
        metric="accuracy",
        baseline="b",
        difference=difference,
        ci_low=low,
        ci_high=high,
        p_value=0.5,
        n=200,
        method="test",
    )


def test_exactly_one_rule() -> None:
    with pytest.raises(ValidationError, match="set exactly one of min, max, max_drop"):
        GateSpec(metric="accuracy", min=0.5, max=0.9)
    with pytest.raises(ValidationError, match=r"\(found 0\)"):
        GateSpec(metric="accuracy")
    assert GateSpec(metric="accuracy", max_drop=0.02).describe("base") == (
        "accuracy drop ≤ 0.02 vs base"
    )
    assert GateSpec(metric="brier", max=0.5).describe(None) == "brier ≤ 0.5"


@pytest.mark.parametrize(
    ("rule", "value", "low", "high", "expected"),
    [
        ("min", 0.60, 0.52, 0.68, "pass"),
        ("min", 0.40, 0.32, 0.49, "fail"),
        ("min", 0.55, 0.47, 0.63, "inconclusive"),
        ("max", 0.20, 0.10, 0.29, "pass"),
        ("max", 0.50, 0.31, 0.60, "fail"),
        ("max", 0.28, 0.22, 0.35, "inconclusive"),
    ],
)
def test_absolute_gates_use_the_interval(
    rule: str, value: float, low: float, high: float, expected: str
) -> None:
    threshold = 0.5 if rule == "min" else 0.3
    gate = GateSpec.model_validate({"metric": "accuracy", rule: threshold})
    assert decide_absolute(gate, metric(value, low, high))[0] == expected


def test_inconclusive_absolute_gate_says_how_many_items_would_settle_it() -> None:
    gate = GateSpec(metric="accuracy", min=0.5)
    status, needed, message = decide_absolute(gate, metric(0.55, 0.45, 0.65))
    # The smallest n whose Wilson interval at z = 1.96 + 0.84 around 0.55 lies above 0.5.
    assert (status, needed) == ("inconclusive", 785)
    assert message == "the interval straddles the threshold"
    status, needed, message = decide_absolute(gate, metric(0.48, 0.40, 0.56))
    assert (status, needed) == ("inconclusive", None)
    assert message.endswith("the estimate itself is on the wrong side")


def test_items_needed_at_a_perfect_score() -> None:
    # 20 of 20 right: [0.839, 1] straddles 0.9; a normal approximation would say "1 item".
    status, needed, _ = decide_absolute(
        GateSpec(metric="accuracy", min=0.9), metric(1.0, 0.839, 1.0)
    )
    assert (status, needed) == ("inconclusive", 71)


def test_metric_without_interval_is_judged_on_its_value() -> None:
    gate = GateSpec(metric="accuracy", min=0.5)
    assert decide_absolute(gate, metric(0.51, None, None, interval=""))[0] == "pass"
    assert decide_absolute(gate, metric(0.49, None, None, interval=""))[0] == "fail"
    assert decide_absolute(gate, metric(math.nan, None, None))[0] == "inconclusive"


@pytest.mark.parametrize(
    ("difference", "low", "high", "expected"),
    [
        (0.00, -0.015, 0.015, "pass"),
        (-0.10, -0.14, -0.06, "fail"),
        (-0.01, -0.04, 0.02, "inconclusive"),
    ],
)
def test_max_drop_is_non_inferiority(
    difference: float, low: float, high: float, expected: str
) -> None:
    gate = GateSpec(metric="accuracy", max_drop=0.02)
    assert decide_relative(gate, comparison(difference, low, high), sd=0.3)[0] == expected


def test_max_increase_mirrors_max_drop() -> None:
    gate = GateSpec(metric="brier", max_increase=0.05)
    assert decide_relative(gate, comparison(0.0, -0.03, 0.03), sd=0.2)[0] == "pass"
    assert decide_relative(gate, comparison(0.2, 0.1, 0.3), sd=0.2)[0] == "fail"
    status, needed, _ = decide_relative(gate, comparison(0.01, -0.02, 0.06), sd=0.2)
    # room = 0.05 − 0.01 = 0.04 → ((1.96 + 0.8416) · 0.2 / 0.04)^2 = 196.2 → 197 items.
    assert (status, needed) == ("inconclusive", 197)


def simulate(n: int, drop: float, shared: float, seed: int) -> str:
    """One audit of a candidate against a baseline on ``n`` items of varied difficulty.

    Item i is answered right with probability p_i by the baseline and p_i − ``drop`` by the
    candidate; ``shared`` is the share of items where both models' luck is the same draw (variants
    of one model mostly agree), the rest are independent.
    """
    rng = np.random.default_rng(seed)
    p = rng.beta(2.0, 1.5, n)
    luck = rng.random(n)
    own_luck = np.where(rng.random(n) < shared, luck, rng.random(n))
    baseline = (luck < p).astype(float)
    candidate = (own_luck < np.clip(p - drop, 0, 1)).astype(float)
    diff = paired_difference(candidate, baseline, seed=seed)
    gate = GateSpec(metric="accuracy", max_drop=0.02)
    found = comparison(diff.difference, diff.ci_low, diff.ci_high)
    return decide_relative(gate, found, diff.sd)[0]


@pytest.mark.parametrize("shared", [0.0, 0.5])
def test_equal_models_rarely_fail(shared: float) -> None:
    outcomes = [simulate(300, 0.0, shared, seed) for seed in range(100)]
    assert outcomes.count("fail") <= 5


def test_a_ten_point_drop_on_500_items_is_caught() -> None:
    outcomes = [simulate(500, 0.10, 0.5, seed) for seed in range(100)]
    assert outcomes.count("fail") >= 80
    assert outcomes.count("pass") == 0
