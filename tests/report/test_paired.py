from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from auditkit.report.paired import agreements, format_delta, format_p, tone_of
from auditkit.report.table import build_comparison
from auditkit.results import AuditResult, PairedComparison

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _pc(difference: float = -0.195, **fields: Any) -> PairedComparison:
    defaults: dict[str, Any] = {
        "model_id": "cand",
        "probe_id": "p",
        "metric": "accuracy",
        "baseline": "base",
        "ci_low": -0.261,
        "ci_high": -0.129,
        "p_value": 0.0004,
        "n": 400,
        "method": "mcnemar",
    }
    return PairedComparison(difference=difference, **{**defaults, **fields})


def test_proportion_difference_in_points() -> None:
    delta = format_delta(_pc(), points=True, direction="higher")
    assert delta is not None
    assert delta.text == "Δ −19.5 pts [−26.1, −12.9]"
    assert delta.significant is True
    assert delta.tone == "worse"
    assert delta.title == "cand − base on 400 paired items (mcnemar); p < 0.001"


def test_other_difference_in_units_with_plus_sign() -> None:
    pc = _pc(0.349, ci_low=0.301, ci_high=0.398, p_value=0.2, method="paired bootstrap")
    delta = format_delta(pc, points=False, direction="lower")
    assert delta is not None
    assert delta.text == "Δ +0.349 [0.301, 0.398]"
    assert (delta.significant, delta.tone) == (False, "neutral")
    assert delta.title == "cand − base on 400 paired items (paired bootstrap); p = 0.200"


def test_difference_without_interval_or_test() -> None:
    delta = format_delta(_pc(0.0001, ci_low=None, ci_high=None, p_value=None), False, "higher")
    assert delta is not None
    assert delta.text == "Δ +0.0001"
    assert delta.significant is False
    assert delta.title == "cand − base on 400 paired items (mcnemar)"


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_numbers_are_not_shown(value: float) -> None:
    assert format_delta(_pc(value), points=True, direction="higher") is None


@pytest.mark.parametrize(
    ("difference", "direction", "significant", "tone"),
    [
        (0.1, "higher", True, "better"),
        (-0.1, "higher", True, "worse"),
        (0.1, "lower", True, "worse"),
        (-0.1, "lower", True, "better"),
        (0.1, "none", True, "neutral"),
        (0.1, "higher", False, "neutral"),
        (0.0, "higher", True, "neutral"),
    ],
)
def test_tone(difference: float, direction: Any, significant: bool, tone: str) -> None:
    assert tone_of(difference, direction, significant) == tone


@pytest.mark.parametrize(
    ("p", "text"),
    [(None, ""), (math.nan, ""), (0.0004, "p < 0.001"), (0.001, "p = 0.001"), (0.5, "p = 0.500")],
)
def test_format_p(p: float | None, text: str) -> None:
    assert format_p(p) == text


def test_deltas_go_under_candidate_whole_probe_cells(realistic_result: AuditResult) -> None:
    comparison = build_comparison(realistic_result)
    assert comparison.baseline == "smollm2-135m"
    texts = [
        [cell.delta.text if cell.delta else None for cell in row.cells] for row in comparison.rows
    ]
    assert texts == [
        [None, "Δ −19.5 pts [−26.1, −12.9]", "Δ −1.2 pts [−3.5, 1.1]"],
        [None, "Δ +0.349 [0.301, 0.398]", "Δ +0.006 [−0.004, 0.016]"],
        # the lora model's truthfulqa probe crashed: an error cell gets no difference
        [None, "Δ −1.2 pts [−4.8, 2.4]", None],
    ]
    assert all(cell.delta is None for row in comparison.group_rows for cell in row.cells)
    assert comparison.has_deltas is True
    assert comparison.has_significant is True


def test_no_deltas_without_comparisons(build: type[Build]) -> None:
    models = [build.model("a", {"p": [build.metric()]}), build.model("b", {"p": [build.metric()]})]
    comparison = build_comparison(build.result(models, ["p"], baseline="a"))
    assert comparison.baseline == "a"
    assert comparison.has_deltas is False


def test_unknown_baseline_is_not_tagged(build: type[Build]) -> None:
    result = build.result([build.model("a", {"p": [build.metric()]})], ["p"], baseline="zz")
    assert build_comparison(result).baseline is None


def test_agreement_once_per_model_and_probe(realistic_result: AuditResult) -> None:
    found = agreements(realistic_result)
    assert [(a.model_id, a.probe_id, a.changed, a.n) for a in found] == [
        ("smollm2-135m-q4", "arc_easy", 141, 400),
        ("smollm2-135m-q4", "truthfulqa_mc1", 58, 400),
        ("smollm2-135m-lora", "arc_easy", 14, 400),
    ]
    assert found[0].percent == "64.8%"
    assert found[0].detail == "259 of 400 items identical (141 changed)"
    assert found[2].share == pytest.approx(0.965)


def test_agreement_skips_unknown_changes_and_empty_comparisons(build: type[Build]) -> None:
    comparisons = [
        _pc(changed=None),
        _pc(probe_id="q", n=0, changed=0),
        _pc(probe_id="r", changed=3),
    ]
    result = build.result([], [], comparisons=comparisons)
    assert [(a.probe_id, a.percent) for a in agreements(result)] == [("r", "99.2%")]
