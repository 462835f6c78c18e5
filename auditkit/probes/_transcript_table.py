"""Read a speech set's transcript table: which audio file says what, and who says it.

A CSV file (a header row naming the columns) or a JSON Lines file (one object a line) with
columns ``file`` (the audio file, relative to the audio folder), ``text`` (what is said) and
optionally ``group`` or ``speaker`` (the group an utterance belongs to for per-group error
rates; ``group`` wins when both are there). Every problem is reported as ``FILE:LINE``, all of
them at once.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.probes._json_lines import json_object_lines

MAX_REPORTED = 20
REQUIRED = ("file", "text")


@dataclass(frozen=True)
class TranscriptRow:
    file: str
    """The audio file's path relative to the audio folder, as the table writes it."""
    text: str
    """The reference transcript, as written."""
    group: str | None
    """The value of the ``group`` (else ``speaker``) column; ``None`` without such a column."""
    line: int
    """The row's line in the table file (its last line, for a CSV row that spans several)."""


def read_transcripts(path: Path) -> list[TranscriptRow]:
    """The rows of ``path`` (``.jsonl`` / ``.json``: JSON Lines, else CSV); ``UserError`` naming
    every malformed row, missing column, empty transcript or repeated file."""
    text = read_user_text(path)
    problems: list[str] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        records = _jsonl_records(path, text, problems)
    else:
        records = _csv_records(path, text, problems)
    rows: list[TranscriptRow] = []
    seen: dict[str, int] = {}
    for line, record in records:
        file = str(record.get("file") or "").strip()
        spoken = str(record.get("text") or "").strip()
        group = record.get("group", record.get("speaker"))
        group = None if group is None else str(group).strip()
        if not file:
            problems.append(f"{path}:{line}: no audio file named (column 'file' is empty)")
            continue
        if not spoken:
            problems.append(f"{path}:{line}: {file}: the transcript is empty")
            continue
        if group == "":
            problems.append(f"{path}:{line}: {file}: the group (or speaker) is empty")
            continue
        if file in seen:
            problems.append(f"{path}:{line}: {file} is listed twice (first on line {seen[file]})")
            continue
        seen[file] = line
        rows.append(TranscriptRow(file, spoken, group, line))
    grouped = [row for row in rows if row.group is not None]
    if grouped and len(grouped) < len(rows):
        first = next(row for row in rows if row.group is None)
        problems.append(
            f"{path}:{first.line}: {first.file} has no group (or speaker) while other rows do"
        )
    if not rows and not problems:
        problems.append(f"{path}: no transcripts (the table is empty)")
    if problems:
        extra = len(problems) - MAX_REPORTED
        raise UserError(
            problems[:MAX_REPORTED]
            + ([f"{path}: … and {extra} more problems"] if extra > 0 else [])
        )
    return rows


def _csv_records(path: Path, text: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        problems.append(
            f"{path}:1: the header names no {' or '.join(repr(m) for m in missing)} column "
            f"(it has: {', '.join(columns) or 'nothing'})"
        )
        return []
    records = []
    try:
        for row in reader:
            cells = {(key or "").strip(): value for key, value in row.items()}
            if None in row:  # more cells than the header has columns
                problems.append(f"{path}:{reader.line_num}: more cells than the header names")
                continue
            if not any((value or "").strip() for value in cells.values()):
                continue  # a blank line
            records.append((reader.line_num, cells))
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: not valid CSV: {exc}")
    return records


def _jsonl_records(path: Path, text: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for number, record in json_object_lines(text, "expected an object with 'file' and 'text'"):
        if isinstance(record, str):
            problems.append(f"{path}:{number}{record}")
            continue
        wrong = [
            key
            for key, kinds in (
                ("file", str),
                ("text", str),
                ("group", (str, int)),
                ("speaker", (str, int)),
            )
            if key in record
            and (not isinstance(record[key], kinds) or isinstance(record[key], bool))
        ]
        if wrong:
            problems.append(f"{path}:{number}: {wrong[0]}: must be a string")
            continue
        records.append((number, record))
    return records
