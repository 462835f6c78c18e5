from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from auditkit.report.gates import (
    build_banner,
    estimate_parts,
    format_estimate,
    gate_rows,
    needed_text,
    overall_status,
)
from auditkit.results import AuditResult, GateStatus, GateVerdict

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _verdict(status: GateStatus, **fields: Any) -> GateVerdict:
    defaults: dict[str, Any] = {
        "model_id": "m",
        "probe_id": "p",
        "metric": "accuracy",
        "rule": "accuracy ≥ 0.5",
    }
    return GateVerdict(status=status, **{**defaults, **fields})


def _result(build: type[Build], statuses: list[GateStatus], **fields: Any) -> AuditResult:
    verdicts = [_verdict(s, model_id=f"m{i}") for i, s in enumerate(statuses)]
    return build.result(
        [build.model("m0", {"p": [build.metric()]})], ["p"], verdicts=verdicts, **fields
    )


@pytest.mark.parametrize(
    ("statuses", "inconclusive_fails", "overall"),
    [
        ([], True, "none"),
        (["pass", "pass"], True, "pass"),
        (["pass", "fail"], True, "fail"),
        (["pass", "fail"], False, "fail"),
        (["pass", "inconclusive"], True, "fail"),
        (["pass", "inconclusive"], False, "inconclusive"),
        (["pass", "error"], False, "fail"),
        (["inconclusive", "error"], False, "fail"),
    ],
)
def test_overall_status(
    build: type[Build], statuses: list[GateStatus], inconclusive_fails: bool, overall: str
) -> None:
    result = _result(build, statuses, inconclusive_fails=inconclusive_fails)
    assert overall_status(result) == overall


@pytest.mark.parametrize(
    ("statuses", "inconclusive_fails", "label", "headline", "policy"),
    [
        ([], True, "NO GATES", "no gates were set", ""),
        (["pass"], True, "PASS", "the gate passes", ""),
        (["pass", "pass", "pass"], True, "PASS", "all 3 gates pass", ""),
        (["pass", "fail", "fail"], True, "FAIL", "2 of 3 failed", ""),
        (
            ["fail", "error", "inconclusive", "pass"],
            True,
            "FAIL",
            "1 of 4 failed, 1 could not be evaluated",
            "inconclusive gates fail the audit",
        ),
        (
            ["inconclusive", "pass"],
            True,
            "FAIL",
            "1 of 2 inconclusive",
            "inconclusive gates fail the audit",
        ),
        (
            ["inconclusive", "pass"],
            False,
            "INCONCLUSIVE",
            "1 of 2 inconclusive, none failed",
            "inconclusive gates do not fail the audit",
        ),
    ],
)
def test_banner_words(
    build: type[Build],
    statuses: list[GateStatus],
    inconclusive_fails: bool,
    label: str,
    headline: str,
    policy: str,
) -> None:
    banner = build_banner(_result(build, statuses, inconclusive_fails=inconclusive_fails))
    assert (banner.label, banner.headline, banner.policy) == (label, headline, policy)


def test_banner_counts_most_urgent_first(build: type[Build]) -> None:
    statuses: list[GateStatus] = ["pass", "inconclusive", "pass", "error", "fail", "pass"]
    banner = build_banner(_result(build, statuses))
    assert banner.counts == (("fail", 1), ("error", 1), ("inconclusive", 1), ("pass", 3))
    assert banner.counts_text == "1 fail · 1 error · 1 inconclusive · 3 pass"


def test_banner_run_line_counts_run_errors(build: type[Build]) -> None:
    models = [
        build.model("a", load_error=build.error("gone", "OSError", "load")),
        build.model("b", probe_errors={"p": build.error("boom"), "q": build.error("bang")}),
    ]
    banner = build_banner(build.result(models, ["p", "q"]))
    assert banner.run == "2 models · 2 probes · 3 run errors"
    assert banner.run_errors == 3


def test_estimate_in_the_rules_units_with_minus_signs() -> None:
    verdict = _verdict("fail", estimate=-0.195, ci_low=-0.261, ci_high=-0.129)
    assert estimate_parts(verdict) == ("−0.195", "[−0.261, −0.129]")
    assert format_estimate(verdict) == "−0.195 [−0.261, −0.129]"


def test_estimate_without_interval_or_value() -> None:
    assert format_estimate(_verdict("pass", estimate=0.5)) == "0.500"
    assert format_estimate(_verdict("pass", estimate=0.5, ci_low=0.4)) == "0.500"
    assert format_estimate(_verdict("error")) == ""
    assert format_estimate(_verdict("inconclusive", estimate=math.nan)) == ""


def test_needed_only_for_inconclusive() -> None:
    assert needed_text(_verdict("inconclusive", n_needed=12_500)) == "needs ≈ 12,500 items"
    assert needed_text(_verdict("inconclusive")) == ""
    assert needed_text(_verdict("fail", n_needed=10)) == ""


def test_gate_rows_failing_first_then_in_order(realistic_result: AuditResult) -> None:
    rows = gate_rows(realistic_result)
    assert [(r.model_id, r.probe, r.status) for r in rows] == [
        ("smollm2-135m-q4", "arc_easy", "fail"),
        ("smollm2-135m-q4", "arc_easy", "fail"),
        ("smollm2-135m-lora", "truthfulqa_mc1", "error"),
        ("smollm2-135m-lora", "arc_easy", "inconclusive"),
        ("smollm2-135m-lora", "license", "inconclusive"),
        ("smollm2-135m", "arc_easy", "pass"),
    ]
    relative = rows[1]
    assert (relative.estimate, relative.interval, relative.p_value, relative.n) == (
        "−0.195",
        "[−0.261, −0.129]",
        "p < 0.001",
        "400",
    )
    assert relative.suite_line == 16
    assert rows[3].needed == "needs ≈ 2,600 items"
    assert rows[3].p_value == "p = 0.310"
    assert (rows[4].estimate, rows[4].p_value, rows[4].n) == ("", "", "")
