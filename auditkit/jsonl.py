"""Read probe data files (JSON Lines) into typed items, reporting bad lines as ``FILE:LINE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from auditkit.errors import UserError
from auditkit.files import read_user_text

ItemT = TypeVar("ItemT", bound=BaseModel)
MAX_REPORTED = 20


def read_jsonl(path: Path, item_type: type[ItemT]) -> list[ItemT]:
    """Parse each non-blank line of ``path`` as ``item_type``; report all bad lines at once."""
    lines = read_user_text(path).splitlines()
    items: list[ItemT] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            items.append(item_type.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}:{exc.colno}: not valid JSON: {exc.msg}")
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "item"
                message = error["msg"].removeprefix("Value error, ")
                problems.append(f"{path}:{number}: {where}: {message}")
    if not items and not problems:
        problems.append(f"{path}: no items (the file is empty)")
    if problems:
        extra = len(problems) - MAX_REPORTED
        shown = problems[:MAX_REPORTED]
        if extra > 0:
            shown.append(f"{path}: … and {extra} more problems")
        raise UserError(shown)
    return items
