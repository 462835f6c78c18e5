"""Reports rendered from an ``AuditResult``: the HTML scorecard, the Markdown summary and JUnit XML.

Renderers read only the saved results (and, for the scorecard's sample explorer, the saved
``samples.jsonl``), so an audit can be re-rendered anywhere later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from auditkit.files import write_atomic
from auditkit.outputs import JUNIT_FILE, SAMPLES_FILE, SCORECARD_FILE, SUMMARY_FILE
from auditkit.registry import Registry
from auditkit.report.html import render_html
from auditkit.report.junit import render_junit
from auditkit.report.markdown import render_markdown
from auditkit.report.samples import read_samples
from auditkit.results import AuditResult

__all__ = [
    "FORMATS",
    "ReportFile",
    "render_html",
    "render_junit",
    "render_markdown",
    "write_reports",
]


class ReportFile(NamedTuple):
    """A report format: the file it is written to in the output directory, and its renderer."""

    file_name: str
    render: Callable[[AuditResult], str]


FORMATS: Registry[ReportFile] = Registry("report format")
"""Report format name → (file name in the output directory, renderer), in the order listed."""
FORMATS.add("html", ReportFile(SCORECARD_FILE, render_html))
FORMATS.add("markdown", ReportFile(SUMMARY_FILE, render_markdown))
FORMATS.add("junit", ReportFile(JUNIT_FILE, render_junit))

"""Where an audit keeps its per-item records, next to the reports."""


def write_reports(
    result: AuditResult,
    out_dir: Path,
    formats: Sequence[str],
    samples: Sequence[Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write the requested reports into ``out_dir`` and return their paths, in request order.

    ``samples`` are the per-item records for the scorecard's sample explorer; without them, the
    scorecard reads ``out_dir / samples.jsonl`` when there is one. Unknown formats are rejected
    before anything is written, so a typo never leaves half a set.
    """
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown report format(s) {', '.join(unknown)}; known: {known}")
    written: list[Path] = []
    for name in dict.fromkeys(formats):
        file_name, render = FORMATS[name]
        path = out_dir / file_name
        if name == "html":
            rows = samples if samples is not None else _saved_samples(out_dir)
            text = render_html(result, rows)
        else:
            text = render(result)
        write_atomic(path, text)
        written.append(path)
    return written


def _saved_samples(out_dir: Path) -> list[dict[str, Any]] | None:
    path = out_dir / SAMPLES_FILE
    return read_samples(path) if path.is_file() else None
