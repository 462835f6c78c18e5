"""The Markdown summary: a compact scorecard for CI job summaries and pull-request comments.

Job summaries render GitHub-flavoured Markdown with some HTML and are capped in size, so every
string from the results is escaped to stay inside its table cell, and the output is bounded.
"""

from __future__ import annotations

from auditkit.report.table import (
    Cell,
    Comparison,
    Row,
    build_comparison,
    format_parameters,
    short_hash,
)
from auditkit.results import AuditResult, ErrorInfo, ModelResult

MAX_ERRORS = 50
"""Errors listed in full; the rest are counted, since the scorecard and results keep them all."""
MAX_MESSAGE = 300
"""Characters of an error message kept; messages can quote whole inputs."""
MAX_CELL = 120
"""Characters of any other text (ids, names) kept in a table cell."""
MAX_BYTES = 512 * 1024
"""Hard cap on the whole summary, well below the 1 MiB job summaries accept."""

TRUNCATED_NOTE = "_Summary truncated to stay within the size limit; see the HTML scorecard._\n"

_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "~": "\\~",
        "[": "\\[",
        "]": "\\]",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)


def escape(text: str, limit: int = MAX_CELL) -> str:
    """Untrusted text as inert Markdown on one line: no table breaks, markup, links or HTML."""
    return clip(" ".join(text.split()), limit).translate(_ESCAPES)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut so nobody mistakes it for the whole."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def fit(text: str, limit: int = MAX_BYTES) -> str:
    """Cut at the last whole line within ``limit`` UTF-8 bytes, then say it was cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    head = data[:limit].decode("utf-8", errors="ignore")
    return head[: head.rfind("\n") + 1] + "\n" + TRUNCATED_NOTE


def render_markdown(result: AuditResult) -> str:
    """Render ``result`` as GitHub-flavoured Markdown."""
    comparison = build_comparison(result)
    sections = [
        f"# Audit scorecard: {escape(result.suite_name)}",
        status_line(result),
        _comparison_section(comparison),
        _groups_section(comparison),
        _models_section(result.models),
        _errors_section(result.errors),
    ]
    return fit("\n\n".join(s for s in sections if s) + "\n")


def status_line(result: AuditResult) -> str:
    errors = len(result.errors)
    mark = "✅" if errors == 0 else "❌"
    counts = (
        f"{_count(len(result.models), 'model')} · {_count(len(result.probes), 'probe')} · "
        f"{_count(errors, 'error')}"
    )
    baseline = escape(result.baseline) if result.baseline is not None else "none"
    return (
        f"{mark} **{counts}** · auditkit {escape(result.auditkit_version)} · "
        f"suite sha256 {escape(short_hash(result.suite_sha256))} · seed {result.seed} · "
        f"baseline {baseline}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def table(header: list[str], align: list[str], rows: list[list[str]]) -> str:
    """A GFM table from already-escaped cells; ``align`` holds ``l`` or ``r`` per column."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [_line(header), _line(rule), *(_line(r) for r in rows)]
    return "\n".join(lines)


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def format_cell(cell: Cell) -> str:
    """Value and interval in one cell, the best in bold."""
    if cell.state == "error":
        return "error"
    if cell.state == "missing":
        return "—"
    text = f"{cell.value} {cell.interval}" if cell.interval else cell.value
    return f"**{text}**" if cell.best else text


def _metric_label(row: Row) -> str:
    return f"{escape(row.metric)} {row.arrow}".rstrip()


def _model_header(comparison: Comparison) -> list[str]:
    return [escape(model_id) for model_id in comparison.models]


def _comparison_section(comparison: Comparison) -> str:
    if not comparison.rows:
        return "## Comparison\n\nNo metrics were reported."
    rows = [
        [escape(row.probe_id), _metric_label(row), *(format_cell(c) for c in row.cells)]
        for row in comparison.rows
    ]
    header = ["Probe", "Metric", *_model_header(comparison)]
    align = ["l", "l", *("r" for _ in comparison.models)]
    return "## Comparison\n\n" + table(header, align, rows)


def _groups_section(comparison: Comparison) -> str:
    """Per-group rows folded away: they are many and secondary to the whole-probe numbers."""
    if not comparison.group_rows:
        return ""
    rows = [
        [
            escape(row.probe_id),
            escape(row.group or ""),
            _metric_label(row),
            *(format_cell(c) for c in row.cells),
        ]
        for row in comparison.group_rows
    ]
    header = ["Probe", "Group", "Metric", *_model_header(comparison)]
    align = ["l", "l", "l", *("r" for _ in comparison.models)]
    summary = f"<details><summary>By group ({_count(len(rows), 'row')})</summary>"
    return f"{summary}\n\n{table(header, align, rows)}\n\n</details>"


def _model_row(model: ModelResult) -> list[str]:
    info = model.info
    if info is None:
        return [escape(model.model_id), "not loaded", "—", "—", "—"]
    return [
        escape(model.model_id),
        escape(info.architecture),
        format_parameters(info.parameters),
        escape(info.dtype),
        escape(info.license or "unknown"),
    ]


def _models_section(models: list[ModelResult]) -> str:
    if not models:
        return ""
    header = ["Model", "Architecture", "Params", "dtype", "License"]
    body = table(header, ["l", "l", "r", "l", "l"], [_model_row(m) for m in models])
    return "## Models\n\n" + body


def _error_item(model_id: str, probe_id: str | None, error: ErrorInfo) -> str:
    where = escape(probe_id) if probe_id is not None else "load"
    return (
        f"- **{escape(model_id)}** · {where}: {escape(error.type)}: "
        f"{escape(error.message, MAX_MESSAGE)}"
    )


def _errors_section(errors: list[tuple[str, str | None, ErrorInfo]]) -> str:
    if not errors:
        return ""
    items = [_error_item(*error) for error in errors[:MAX_ERRORS]]
    hidden = len(errors) - MAX_ERRORS
    if hidden > 0:
        items.append(f"- … and {_count(hidden, 'more error')}, listed in the HTML scorecard")
    return "## Errors\n\n" + "\n".join(items)
