"""One ``samples.jsonl`` line as a typed record, and the one reader of that file.

The runner writes one JSON object per line: the model and probe ids, then the probe's ``Sample``
fields in their order (``item_id``, ``input``, ``output``, ``target``, ``scores``, ``details``),
then any field a plugin's ``Sample`` subclass adds. ``SampleRecord`` reads exactly that and
writes it back byte for byte (``to_line``), extra fields included.

A line is *bad* when it is not UTF-8, not JSON, not a JSON object, or not a ``SampleRecord``
(a missing or mistyped field); blank lines are not lines at all. What a bad line does depends on
the reader's use, and only on that:

- ``strict=True`` (gating, which decides pass or fail): the first bad line raises a one-line
  ``UserError``, ``FILE:LINE: not a samples.jsonl record: PROBLEM``.
- ``strict=False`` (the scorecard's sample explorer, which only shows examples): bad lines are
  skipped and returned as ``SampleFile.bad_lines``, for the report to say how many it left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from auditkit.errors import UserError

BAD_LINE = "{path}:{line}: not a samples.jsonl record: {problem}"
"""The strict reader's error, one line."""
NOT_UTF8 = "not UTF-8 text"
NOT_AN_OBJECT = "not a JSON object"

Score = bool | int | float
"""A per-item score as the probe gave it; bool and int stay themselves, so a line reads back to
the same bytes."""


class SampleRecord(BaseModel):
    """One model's answer to one item of one probe: one line of ``samples.jsonl``.

    Fields beyond these (from a plugin's ``Sample`` subclass) are kept as they are, after them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    model_id: str
    """The suite's id of the model that answered."""
    probe_id: str
    """The suite's id of the probe that asked."""
    item_id: str
    """The item's id within the probe, stable across models (paired comparisons join on it)."""
    input: str
    """What the model was given (the prompt, or a description of a synthetic workload)."""
    output: str
    """What the model answered."""
    target: str
    """The reference answer; empty when the item has none."""
    scores: dict[str, Score]
    """Per-item scores by name; a metric's ``per_item`` names the one whose mean it is."""
    details: dict[str, Any] = Field(default_factory=dict)
    """Whatever else the probe recorded for the item (judge evidence, log-likelihoods, timings)."""

    @field_validator("scores", mode="before")
    @classmethod
    def _numbers(cls, scores: Any) -> Any:
        # Said here once, rather than as one complaint per member of ``Score``.
        if isinstance(scores, dict):
            for key, value in scores.items():
                if not isinstance(value, Score):
                    raise ValueError(f"score {key!r} is not a number")
        return scores

    @property
    def extra(self) -> dict[str, Any]:
        """Fields beyond the declared ones, in the order the line had them."""
        return dict(self.__pydantic_extra__ or {})

    def to_line(self) -> str:
        """The record as the runner writes it: one JSON line (without its newline) in field
        order, non-ASCII kept as is."""
        return json.dumps(self.model_dump(), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class BadLine:
    """A line that is not a ``SampleRecord``, and why."""

    line: int
    """1-based line number in the file."""
    problem: str
    """Why, on one line, e.g. ``not valid JSON: Expecting value (column 1)``."""


@dataclass(frozen=True)
class SampleFile:
    """What a ``samples.jsonl`` holds: its records and (read leniently) the lines it skipped."""

    path: Path
    records: list[SampleRecord] = field(default_factory=list)
    bad_lines: tuple[BadLine, ...] = ()
    """Always empty when read strictly: the first bad line raises instead."""


def read_samples(path: Path, *, strict: bool) -> SampleFile:
    """Every record of the ``samples.jsonl`` at ``path``, in file order; none when the file does
    not exist. A bad line raises (``strict``) or is skipped and listed (see the module docs)."""
    if not path.is_file():
        return SampleFile(path)
    records: list[SampleRecord] = []
    bad: list[BadLine] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            record = _parse(raw)
            if isinstance(record, SampleRecord):
                records.append(record)
            elif strict:
                raise UserError(BAD_LINE.format(path=path, line=number, problem=record))
            else:
                bad.append(BadLine(number, record))
    return SampleFile(path, records, tuple(bad))


def _parse(raw: bytes) -> SampleRecord | str:
    """The record on one line, or why the line is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} (column {exc.colno})"
    if not isinstance(data, dict):
        return NOT_AN_OBJECT
    try:
        return SampleRecord.model_validate(data)
    except ValidationError as exc:
        return _first_error(exc)


def _first_error(exc: ValidationError) -> str:
    """The first invalid field and what is wrong with it (and how many other fields are)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "record"
    problem = f"{where}: {first['msg'].removeprefix('Value error, ')}"
    others = len({e["loc"][:1] for e in errors} - {first["loc"][:1]})
    if others:
        problem += f" (and {others} more field{'s' if others > 1 else ''})"
    return " ".join(problem.split())
