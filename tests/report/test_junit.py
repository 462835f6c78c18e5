from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from auditkit.report import FORMATS, render_junit, write_reports
from auditkit.report.junit import xml_text
from auditkit.results import AuditResult, GateVerdict

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _suite(result: AuditResult) -> ET.Element:
    text = render_junit(result)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite ')
    return ET.fromstring(text)


def _outcomes(suite: ET.Element) -> list[tuple[str, str, str]]:
    """(classname, name, outcome element or "pass") per test case."""
    return [
        (case.get("classname") or "", case.get("name") or "", case[0].tag if len(case) else "pass")
        for case in suite.iter("testcase")
    ]


def test_one_case_per_verdict_and_per_run_error(realistic_result: AuditResult) -> None:
    suite = _suite(realistic_result)
    assert suite.get("name") == "auditkit.release-candidate"
    assert _outcomes(suite) == [
        ("arc_easy", "smollm2-135m: accuracy ≥ 0.5", "pass"),
        ("arc_easy", "smollm2-135m-q4: accuracy ≥ 0.5", "failure"),
        ("arc_easy", "smollm2-135m-q4: accuracy drop ≤ 0.02 vs smollm2-135m", "failure"),
        ("arc_easy", "smollm2-135m-lora: accuracy drop ≤ 0.02 vs smollm2-135m", "failure"),
        ("truthfulqa_mc1", "smollm2-135m-lora: accuracy ≥ 0.2", "error"),
        ("license", "smollm2-135m-lora: license allows commercial use", "failure"),
        ("truthfulqa_mc1", "smollm2-135m-lora: probe truthfulqa_mc1", "error"),
    ]
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "7", "failures": "4", "errors": "2", "skipped": "0"}


def test_inconclusive_is_skipped_when_it_does_not_fail(realistic_result: AuditResult) -> None:
    lenient = realistic_result.model_copy(update={"inconclusive_fails": False})
    suite = _suite(lenient)
    outcomes = [outcome for _, _, outcome in _outcomes(suite)]
    assert outcomes == ["pass", "failure", "failure", "skipped", "error", "skipped", "error"]
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "7", "failures": "2", "errors": "2", "skipped": "2"}
    skipped = suite.find(".//skipped")
    assert skipped is not None
    assert skipped.get("message") == "the interval of the difference straddles the margin"


def test_failure_carries_the_evidence(realistic_result: AuditResult) -> None:
    cases = list(_suite(realistic_result).iter("testcase"))
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "the drop is larger than 0.02 with 95% confidence"
    assert failure.get("type") == "fail"
    assert failure.text == (
        "rule: accuracy drop ≤ 0.02 vs smollm2-135m\n"
        "status: fail\n"
        "estimate: −0.195 [−0.261, −0.129]\n"
        "p < 0.001\n"
        "n = 400\n"
        "the drop is larger than 0.02 with 95% confidence\n"
        "suite line 16"
    )
    inconclusive = cases[3].find("failure")
    assert inconclusive is not None
    assert "needs ≈ 2,600 items" in (inconclusive.text or "").splitlines()


def test_run_errors_are_error_cases(build: type[Build]) -> None:
    models = [
        build.model("a", load_error=build.error("weights not found", "OSError", "load")),
        build.model("b", probe_errors={"mc": build.error("bad shape\nsecond line", "ValueError")}),
    ]
    suite = _suite(build.result(models, ["mc"]))
    assert _outcomes(suite) == [("load", "a: load", "error"), ("mc", "b: probe mc", "error")]
    errors = list(suite.iter("error"))
    assert [(e.get("type"), e.get("message"), e.text) for e in errors] == [
        ("OSError", "weights not found", "OSError: weights not found"),
        ("ValueError", "bad shape second line", "ValueError: bad shape\nsecond line"),
    ]
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "2", "0")


def test_no_gates_and_no_errors_is_an_empty_suite(build: type[Build]) -> None:
    suite = _suite(build.result([build.model("a", {"p": [build.metric()]})], ["p"]))
    assert list(suite.iter("testcase")) == []
    assert suite.get("tests") == "0"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "auditkit_version": "0.1.0",
        "suite_sha256": "0123456789abcdef" * 4,
        "seed": "7",
        "baseline": "",
        "intended_use": "research",
    }


def test_untrusted_text_stays_well_formed(build: type[Build]) -> None:
    nasty = '<script>alert(1)</script>"&\x00\x1b\ud800 \U0001f600'
    verdict = GateVerdict(
        model_id=nasty, probe_id=nasty, metric="m", rule=nasty, status="fail", message=nasty
    )
    result = build.result([], [], suite_name=nasty, verdicts=[verdict])
    text = render_junit(result)
    assert "<script>" not in text
    suite = ET.fromstring(text)
    case = suite.find("testcase")
    assert case is not None
    assert case.get("classname") == '<script>alert(1)</script>"&\ufffd\ufffd\ufffd \U0001f600'
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == '<script>alert(1)</script>"&\ufffd\ufffd\ufffd \U0001f600'


def test_xml_text_replaces_only_what_xml_cannot_hold() -> None:
    assert xml_text("a\tb\nc\rd\x00e\x0bf\ufffeg") == "a\tb\nc\rd\ufffde\ufffdf\ufffdg"


def test_long_messages_are_clipped_in_the_attribute_only(build: type[Build]) -> None:
    verdict = GateVerdict(
        model_id="m", probe_id="p", metric="m", rule="r", status="fail", message="x" * 2000
    )
    failure = _suite(build.result([], [], verdicts=[verdict])).find(".//failure")
    assert failure is not None
    assert failure.get("message") == "x" * 499 + "…"
    assert ("x" * 2000) in (failure.text or "")


def test_junit_is_a_report_format(realistic_result: AuditResult, tmp_path: Path) -> None:
    assert FORMATS["junit"] == ("junit.xml", render_junit)
    (path,) = write_reports(realistic_result, tmp_path, ["junit"])
    assert path == tmp_path / "junit.xml"
    assert path.read_text(encoding="utf-8") == render_junit(realistic_result)
