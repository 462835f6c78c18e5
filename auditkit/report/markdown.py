"""The Markdown summary: a compact scorecard for CI job summaries and pull-request comments.

Job summaries render GitHub-flavoured Markdown with some HTML and are capped in size, so every
string from the results is escaped to stay inside its table cell, and the output is bounded.
"""

from __future__ import annotations

from auditkit.report.deployment import (
    FRONT_LEGEND,
    FRONT_MARK,
    Deployment,
    DeploymentRow,
    Value,
    build_deployment,
)
from auditkit.report.gates import Banner, GateRow, build_banner, gate_rows
from auditkit.report.judges import JudgeView, Share, judge_views
from auditkit.report.licenses import license_card
from auditkit.report.machine import environment_line
from auditkit.report.paired import SIGNIFICANCE, SIGNIFICANT_MARK
from auditkit.report.table import (
    NOTE_MARK,
    Cell,
    Comparison,
    Row,
    build_comparison,
    format_parameters,
    short_hash,
)
from auditkit.results import AuditResult, Environment, ErrorInfo, LicenseReport, ModelResult

MAX_ERRORS = 50
"""Errors listed in full; the rest are counted, since the scorecard and results keep them all."""
MAX_GATES = 200
"""Gate rows listed (failing first); the rest are counted."""
MAX_MESSAGE = 300
"""Characters of an error message kept; messages can quote whole inputs."""
MAX_CELL = 120
"""Characters of any other text (ids, names) kept in a table cell."""
MAX_NOTE = 400
"""Characters of a model's note kept; notes are a sentence or two."""
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
        verdict_banner(build_banner(result)),
        status_line(result),
        _deployment_section(build_deployment(result)),
        _gates_section(gate_rows(result)),
        _comparison_section(comparison),
        _groups_section(comparison),
        _licenses_section(result.licenses, result.intended_use),
        _models_section(result.models, result.environment),
        _judges_section(judge_views(result)),
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


VERDICT_MARKS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "none": "➖"}
STATUS_MARKS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️", "error": "⛔"}
LICENSE_MARKS = {"allowed": "✅", "review": "⚠️", "forbidden": "❌"}


def verdict_banner(banner: Banner) -> str:
    """``## ❌ FAIL: 2 of 7 failed`` and a line with the gate counts and the policy."""
    head = f"## {VERDICT_MARKS[banner.overall]} {banner.label}: {banner.headline}"
    details = [f"{n} {status}" for status, n in banner.counts]
    if banner.policy:
        details.append(banner.policy)
    return head + (f"\n\n**Gates:** {' · '.join(details)}" if banner.counts else "")


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
    """Value and interval in one cell, the best in bold; below, the difference to the baseline."""
    if cell.state == "error":
        return "error"
    if cell.state == "missing":
        return "—"
    text = f"{cell.value} {cell.interval}" if cell.interval else cell.value
    text = f"**{text}**" if cell.best else text
    if cell.delta is not None:
        mark = f" \\{SIGNIFICANT_MARK}" if cell.delta.significant else ""
        text += f"<br>{cell.delta.text}{mark}"
    return text


def _metric_label(row: Row) -> str:
    return f"{escape(row.label)} {row.arrow}".rstrip()


def _model_name(model_id: str, comparison: Comparison) -> str:
    """The model id, marked as the baseline and as having notes where it is."""
    name = escape(model_id)
    if model_id == comparison.baseline:
        name += " (baseline)"
    if comparison.noted(model_id):
        name += f" {NOTE_MARK}"
    return name


def _model_header(comparison: Comparison) -> list[str]:
    return [_model_name(model_id, comparison) for model_id in comparison.models]


def _notes_footnote(comparison: Comparison) -> str:
    """Every model note, under the mark the model's column carries."""
    if not comparison.notes:
        return ""
    items = [
        f"- **{escape(entry.model_id)}**: {escape(note, MAX_NOTE)}"
        for entry in comparison.notes
        for note in entry.notes
    ]
    head = (
        f"{NOTE_MARK} Notes on how these models ran; read their numbers, latency above all, "
        "with them in mind:"
    )
    return head + "\n\n" + "\n".join(items)


def _comparison_section(comparison: Comparison) -> str:
    notes = _notes_footnote(comparison)
    if not comparison.rows:
        body = "## Comparison\n\nNo metrics were reported."
        return f"{body}\n\n{notes}" if notes else body
    rows = [
        [escape(row.probe_id), _metric_label(row), *(format_cell(c) for c in row.cells)]
        for row in comparison.rows
    ]
    header = ["Probe", "Metric", *_model_header(comparison)]
    align = ["l", "l", *("r" for _ in comparison.models)]
    body = "## Comparison\n\n" + table(header, align, rows)
    if comparison.has_deltas:
        body += (
            f"\n\nΔ: difference to the baseline {escape(comparison.baseline or '')} on paired "
            f"items, with its 95% interval (points for proportions); "
            f"\\{SIGNIFICANT_MARK} p < {SIGNIFICANCE} in a paired test."
        )
    return f"{body}\n\n{notes}" if notes else body


def _gate_line(row: GateRow) -> list[str]:
    return [
        escape(row.model_id),
        escape(row.probe),
        escape(row.rule),
        f"{STATUS_MARKS[row.status]} {row.status}",
        f"{row.estimate} {row.interval}".strip() or "—",
        row.p_value or "—",
        row.n or "—",
        row.needed,
        escape(row.message, MAX_MESSAGE),
    ]


def _gates_section(rows: list[GateRow]) -> str:
    if not rows:
        return ""
    header = [
        "Model",
        "Probe",
        "Rule",
        "Status",
        "Estimate [95% CI]",
        "p",
        "n",
        "Needed",
        "Message",
    ]
    align = ["l", "l", "l", "l", "r", "r", "r", "l", "l"]
    body = "## Gates\n\n" + table(header, align, [_gate_line(r) for r in rows[:MAX_GATES]])
    hidden = len(rows) - MAX_GATES
    if hidden > 0:
        body += f"\n\n… and {_count(hidden, 'more gate')}, listed in the HTML scorecard."
    return body


def _license_line(report: LicenseReport) -> list[str]:
    card = license_card(report)
    facts = dict(card.facts)
    return [
        escape(card.model_id),
        f"{escape(card.license_id)} ({escape(card.name)})",
        f"{LICENSE_MARKS[card.verdict]} {card.verdict}",
        escape(facts["Commercial use"]),
        facts["Attribution required"],
        facts["Use restrictions"],
        escape(facts["Copyleft"]),
        escape("; ".join(card.reasons), MAX_MESSAGE) or "—",
    ]


def _licenses_section(reports: list[LicenseReport], intended_use: str) -> str:
    if not reports:
        return ""
    header = [
        "Model",
        "License",
        "Verdict",
        "Commercial use",
        "Attribution",
        "Restrictions",
        "Copyleft",
        "Reasons",
    ]
    rows = [_license_line(r) for r in reports]
    return f"## Licenses for {escape(intended_use)} use\n\n" + table(header, ["l"] * 8, rows)


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
        escape(model.model_id) + (f" {NOTE_MARK}" if info.notes else ""),
        escape(info.architecture),
        format_parameters(info.parameters),
        escape(info.dtype),
        escape(info.license or "unknown"),
    ]


def _models_section(models: list[ModelResult], environment: Environment) -> str:
    machine = f"**Machine:** {escape(environment_line(environment), MAX_MESSAGE)}"
    if not models:
        return "## Models\n\n" + machine
    header = ["Model", "Architecture", "Params", "dtype", "License"]
    body = table(header, ["l", "l", "r", "l", "l"], [_model_row(m) for m in models])
    if any(m.info is not None and m.info.notes for m in models):
        body += f"\n\n{NOTE_MARK} ran with notes, listed under the comparison table."
    return "## Models\n\n" + body + "\n\n" + machine


def _deployment_value(value: Value | None, noted: bool = False, interval: bool = False) -> str:
    """The value (with its interval where asked, to keep the table compact), the memory kind
    and the notes mark."""
    if value is None:
        return "—"
    text = f"{value.text} {value.interval}" if interval and value.interval else value.text
    if value.kind:
        text += f" {escape(value.kind)}"
    return text + (f" {NOTE_MARK}" if noted else "")


def _deployment_row(row: DeploymentRow, deployment: Deployment) -> list[str]:
    name = escape(row.model_id)
    if row.baseline:
        name += " (baseline)"
    if row.noted:
        name += f" {NOTE_MARK}"
    if row.front:
        name += f" {FRONT_MARK}"
    width = len(deployment.columns) + (1 if deployment.shows_flips else 0)
    if not row.loaded:
        return [name, f"not loaded: {escape(row.error, MAX_MESSAGE)}", *(["—"] * width)]
    cells = [name, escape(row.build_text)]
    if deployment.shows_flips:
        cells.append(_deployment_value(row.flip))
    for column in deployment.columns:
        noted = row.noted and column.key == "latency"
        interval = column.key == "quality"
        cells.append(_deployment_value(row.value(column), noted, interval))
    return cells


def _deployment_section(deployment: Deployment | None) -> str:
    """One row per build: what it is, how often it flips the baseline's answers, its quality
    and its costs, with the Pareto front marked."""
    if deployment is None:
        return ""
    header = ["Model", "Build"]
    if deployment.shows_flips:
        header.append(f"Flips vs baseline ({escape(deployment.agreement_probe or '')})")
    for column in deployment.columns:
        label = f"{column.heading} {column.arrow}"
        if column.key == "quality" and deployment.quality:
            label += f" ({escape(deployment.quality)})"
        header.append(label)
    align = ["l", "l", *("r" for _ in header[2:])]
    rows = [_deployment_row(row, deployment) for row in deployment.rows]
    notes = []
    if deployment.has_front:
        notes.append(
            f"{FRONT_MARK} on the Pareto front: {FRONT_LEGEND} "
            f"(compared: {escape(deployment.compared_labels)}; point estimates)."
        )
    if deployment.noted:
        notes.append(
            f"{NOTE_MARK} ran with notes (e.g. an emulated dtype): its latency is not "
            "representative of the build on hardware made for it; notes under the comparison."
        )
    body = "## Deployment\n\n" + table(header, align, rows)
    return body + "".join(f"\n\n{note}" for note in notes)


def _share(share: Share) -> str:
    return f"{share.value} {share.interval}".strip()


def _judge_row(judge: JudgeView) -> list[str]:
    return [
        escape(judge.judge),
        escape(judge.version),
        _share(judge.accuracy),
        str(judge.n),
        escape(", ".join(judge.probes)) or "—",
        escape(judge.question, MAX_MESSAGE),
    ]


def _judges_section(judges: list[JudgeView]) -> str:
    """Each judge's accuracy on its validation set; the HTML scorecard has the per-label card."""
    if not judges:
        return ""
    header = ["Judge", "Rules", "Accuracy [95% CI]", "n", "Used by", "Question"]
    rows = [_judge_row(judge) for judge in judges]
    return "## Judges\n\n" + table(header, ["l", "l", "r", "r", "l", "l"], rows)


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
