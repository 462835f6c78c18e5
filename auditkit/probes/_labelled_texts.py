"""Read a user's labelled texts (JSONL or CSV) with configurable column names.

A ``.csv`` file is read as CSV with a header row; any other file as JSON Lines, one object per
line. Every bad row is reported at once as ``FILE:LINE: what is wrong`` (``UserError``), before
any model loads: a missing or empty text, a missing label, a value that is not text or a whole
number, a repeated id, a missing column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.jsonl import MAX_REPORTED
from auditkit.probes._json_lines import json_object_lines


@dataclass(frozen=True)
class LabelledText:
    id: str
    """The row's ``id`` value, else its 1-based position among the data rows."""
    text: str
    label: str
    """The gold label as the data writes it (numbers as their decimal text)."""
    group: str | None
    """The row's slice, or ``None`` when it has none."""


def read_labelled_texts(
    path: Path,
    *,
    text_field: str,
    label_field: str,
    group_field: str | None,
    group_required: bool = False,
) -> list[LabelledText]:
    """The rows of ``path``; ``group_required``: the group column must exist (the suite named
    it) rather than being optional."""
    content = read_user_text(path)
    problems: list[str] = []
    if path.suffix.lower() == ".csv":
        columns = [
            text_field,
            label_field,
            *([group_field] if group_required and group_field else []),
        ]
        rows = _csv_rows(path, content, columns)
    else:
        rows = json_object_lines(content, "not a JSON object")
    items: list[LabelledText] = []
    seen: dict[str, int] = {}
    position = 0
    for line, row in rows:
        where = f"{path}:{line}"
        if isinstance(row, str):  # the row could not be read: why
            problems.append(f"{where}{row}")
            continue
        position += 1
        text = _text(row, text_field, where, problems, required=True)
        label = _text(row, label_field, where, problems, required=True)
        group = _text(row, group_field, where, problems) if group_field else None
        identifier = _text(row, "id", where, problems) or str(position)
        if identifier in seen:
            problems.append(f"{where}: id {identifier!r} repeats line {seen[identifier]}")
        seen.setdefault(identifier, line)
        if text is not None and label is not None:
            items.append(LabelledText(identifier, text, label, group or None))
    if group_required and group_field and items and all(item.group is None for item in items):
        problems.append(f"{path}: no row has a {group_field!r} value")
    if not rows:
        problems.append(f"{path}: no items (the file is empty)")
    if problems:
        extra = len(problems) - MAX_REPORTED
        raise UserError(
            problems[:MAX_REPORTED]
            + ([f"{path}: … and {extra} more problems"] if extra > 0 else [])
        )
    return items


Rows = list[tuple[int, "dict[str, Any] | str"]]
"""(line, the row's cells by column name, or why the line is not a row: ``": problem"`` or
``":COLUMN: problem"``, to follow ``FILE:LINE``), in file order."""


def _csv_rows(path: Path, content: str, columns: list[str]) -> Rows:
    """The rows of a CSV file whose header must have ``columns``."""
    reader = csv.DictReader(io.StringIO(content, newline=""))
    rows: Rows = []
    try:
        header = reader.fieldnames or []
        missing = [name for name in columns if name not in header]
        if header and missing:
            names = ", ".join(repr(name) for name in missing)
            raise UserError(f"{path}:1: no column {names} (columns: {', '.join(header)})")
        for row in reader:
            if None in row:  # more cells than the header has columns
                rows.append((reader.line_num, ": more cells than header columns"))
            elif any(value not in (None, "") for value in row.values()):
                rows.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        rows.append((reader.line_num, f": not valid CSV: {exc}"))
    return rows


def _text(
    row: dict[str, Any], field: str, where: str, problems: list[str], *, required: bool = False
) -> str | None:
    """``row[field]`` as trimmed text (whole numbers as their digits); ``None`` when absent or
    empty, which is a problem when ``required``."""
    value = row.get(field)
    if isinstance(value, bool) or not isinstance(value, str | int | type(None)):
        problems.append(f"{where}: {field}: must be text or a whole number")
        return None
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            problems.append(f"{where}: {field}: " + ("missing" if value is None else "empty"))
        return None
    return text
