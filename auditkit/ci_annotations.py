"""Workflow-command annotations, so a failing gate shows up on its line of the suite in a PR."""

from __future__ import annotations

from pathlib import Path

from auditkit.results import AuditResult


def _escape(text: str) -> str:
    # Workflow commands end at a newline and treat % specially: encode both.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def gate_annotations(result: AuditResult, suite_path: Path | None) -> list[str]:
    """``::error``/``::warning`` lines for failing and inconclusive gates."""
    lines = []
    for verdict in result.verdicts:
        if verdict.status == "pass":
            continue
        failing = verdict.status in ("fail", "error") or (
            verdict.status == "inconclusive" and result.inconclusive_fails
        )
        level = "error" if failing else "warning"
        where = []
        if suite_path is not None:
            where.append(f"file={_escape_property(str(suite_path))}")
            if verdict.suite_line is not None:
                where.append(f"line={verdict.suite_line}")
        where.append(f"title={_escape_property(f'auditkit gate {verdict.status}')}")
        message = f"{verdict.model_id}: {verdict.rule}: {verdict.status}"
        if verdict.message:
            message += f" ({verdict.message})"
        lines.append(f"::{level} {','.join(where)}::{_escape(message)}")
    return lines
