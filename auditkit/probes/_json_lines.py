"""Split a JSON Lines table into its objects, keeping the line of each and what is wrong with a
line that is not one, so that a probe's reader can report every problem as ``FILE:LINE``."""

from __future__ import annotations

import json
from typing import Any

JsonLines = list[tuple[int, "dict[str, Any] | str"]]
"""(line, the line's object, or why the line is not one: ``":COLUMN: not valid JSON: …"`` or
``": {not_object}"``, to follow ``FILE:LINE``), in file order, blank lines left out."""


def json_object_lines(content: str, not_object: str) -> JsonLines:
    """The objects of the JSON Lines ``content``; a line holding JSON that is not an object is
    reported as ``": {not_object}"``."""
    rows: JsonLines = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append((number, f":{exc.colno}: not valid JSON: {exc.msg}"))
            continue
        rows.append((number, row if isinstance(row, dict) else f": {not_object}"))
    return rows
