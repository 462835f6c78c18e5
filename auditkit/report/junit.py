"""Gate verdicts as a JUnit XML report, which every CI system can show as test results.

One test case per gate verdict (``fail`` fails, ``error`` errors, ``inconclusive`` fails or is
skipped by the suite's policy), plus one erroring test case per run error, so that a crashed
probe is never mistaken for a green build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from auditkit.report.gates import LICENSE_CLASS, format_estimate, needed_text
from auditkit.report.paired import format_p
from auditkit.results import AuditResult, ErrorInfo, GateVerdict

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold at all, not even escaped."""

MAX_MESSAGE = 500
"""Characters kept of a ``message`` attribute; the element body keeps the whole text."""


def xml_text(text: str) -> str:
    """Untrusted text made representable in XML 1.0 (ElementTree escapes the rest)."""
    return _NOT_XML.sub("\ufffd", text)


def _attr(text: str) -> str:
    one_line = " ".join(xml_text(text).split())
    return one_line if len(one_line) <= MAX_MESSAGE else one_line[: MAX_MESSAGE - 1] + "…"


def evidence(verdict: GateVerdict) -> str:
    """The numbers behind a verdict, one per line."""
    lines = [f"rule: {verdict.rule}", f"status: {verdict.status}"]
    estimate = format_estimate(verdict)
    if estimate:
        lines.append(f"estimate: {estimate}")
    p_text = format_p(verdict.p_value)
    if p_text:
        lines.append(p_text)
    if verdict.n is not None:
        lines.append(f"n = {verdict.n}")
    needed = needed_text(verdict)
    if needed:
        lines.append(needed)
    if verdict.message:
        lines.append(verdict.message)
    if verdict.suite_line is not None:
        lines.append(f"suite line {verdict.suite_line}")
    return "\n".join(lines)


def _outcome(verdict: GateVerdict, inconclusive_fails: bool) -> tuple[str, str] | None:
    """(element, default message) for a verdict that is not a pass."""
    if verdict.status == "fail":
        return "failure", "gate failed"
    if verdict.status == "error":
        return "error", "gate could not be evaluated"
    if verdict.status == "inconclusive":
        return ("failure" if inconclusive_fails else "skipped"), "gate inconclusive"
    return None


def _gate_case(suite: ET.Element, verdict: GateVerdict, inconclusive_fails: bool) -> str | None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(verdict.probe_id or LICENSE_CLASS),
        name=xml_text(f"{verdict.model_id}: {verdict.rule}"),
    )
    outcome = _outcome(verdict, inconclusive_fails)
    if outcome is None:
        return None
    tag, default = outcome
    child = ET.SubElement(case, tag, message=_attr(verdict.message or default), type=verdict.status)
    child.text = xml_text(evidence(verdict))
    return tag


def _error_case(suite: ET.Element, model_id: str, probe_id: str | None, error: ErrorInfo) -> None:
    what = f"probe {probe_id}" if probe_id is not None else "load"
    case = ET.SubElement(
        suite,
        "testcase",
        classname=xml_text(probe_id if probe_id is not None else "load"),
        name=xml_text(f"{model_id}: {what}"),
    )
    child = ET.SubElement(case, "error", message=_attr(error.message or error.type))
    child.set("type", xml_text(error.type))
    child.text = xml_text(f"{error.type}: {error.message}")


def render_junit(result: AuditResult) -> str:
    """The verdicts of ``result`` as one JUnit ``<testsuite>``."""
    suite = ET.Element("testsuite", name=xml_text(f"auditkit.{result.suite_name}"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("auditkit_version", result.auditkit_version),
        ("suite_sha256", result.suite_sha256),
        ("seed", str(result.seed)),
        ("baseline", result.baseline or ""),
        ("intended_use", result.intended_use),
    ):
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    tally = {"failure": 0, "error": 0, "skipped": 0}
    for verdict in result.verdicts:
        tag = _gate_case(suite, verdict, result.inconclusive_fails)
        if tag is not None:
            tally[tag] += 1
    for model_id, probe_id, error in result.errors:
        _error_case(suite, model_id, probe_id, error)
        tally["error"] += 1
    suite.set("tests", str(len(result.verdicts) + len(result.errors)))
    suite.set("failures", str(tally["failure"]))
    suite.set("errors", str(tally["error"]))
    suite.set("skipped", str(tally["skipped"]))
    ET.indent(suite)
    body = ET.tostring(suite, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
