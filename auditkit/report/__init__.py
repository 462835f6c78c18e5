"""Reports rendered from an ``AuditResult``: the HTML scorecard and the Markdown summary.

Renderers read only the saved results, so a ``results.json`` can be re-rendered anywhere later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from auditkit.files import write_atomic
from auditkit.report.html import render_html
from auditkit.report.markdown import render_markdown
from auditkit.results import AuditResult

__all__ = ["FORMATS", "render_html", "render_markdown", "write_reports"]

FORMATS: dict[str, tuple[str, Callable[[AuditResult], str]]] = {
    "html": ("scorecard.html", render_html),
    "markdown": ("summary.md", render_markdown),
}
"""Report format name -> (file name in the output directory, renderer)."""


def write_reports(result: AuditResult, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Write the requested reports into ``out_dir`` and return their paths, in request order.

    Unknown formats are rejected before anything is written, so a typo never leaves half a set.
    """
    unknown = [name for name in formats if name not in FORMATS]
    if unknown:
        known = ", ".join(FORMATS)
        raise ValueError(f"unknown report format(s) {', '.join(unknown)}; known: {known}")
    written: list[Path] = []
    for name in dict.fromkeys(formats):
        file_name, render = FORMATS[name]
        path = out_dir / file_name
        write_atomic(path, render(result))
        written.append(path)
    return written
