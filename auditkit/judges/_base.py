"""The judge contract, its registry, and reading rows of replies to judge.

A judge turns one reply (with the item it answers) into a verdict, one of a closed set of labels,
and the evidence for it. It is a measuring instrument with an error rate: every judge ships with a
labelled validation set, ``auditkit/data/judges/<name>.jsonl``, written by this project before the
judge's rules were tuned, and its card (``auditkit.judges.card``) measures it there. A new judge is
one module in this package with one ``@register_judge`` class, plus its validation set.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.registry import Registry

JUDGES: Registry[type[Judge[Any]]] = Registry("judge", home="auditkit.judges")
"""Every judge, by name; the package's modules register themselves (``register_judge``)."""


class ReplyRow(BaseModel):
    """Fields every row to judge has: the reply, and optionally the shipped item it answers."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: str | None = None
    reply: str


RowT = TypeVar("RowT", bound=ReplyRow)


@dataclass(frozen=True)
class Verdict:
    """A judge's decision on one reply: a label from the judge's ``labels``, and why."""

    label: str
    evidence: dict[str, Any] = field(default_factory=dict)


class Judge(ABC, Generic[RowT]):
    """Base class of every judge."""

    name: ClassVar[str]
    """Registry name; also the stem of its validation set unless ``validation_set`` names one."""
    validation_set: ClassVar[str | None] = None
    """The stem of the validation set when it is another judge's (a judge measured on the same
    rows as the one it refines); ``None``: ``name``."""
    version: ClassVar[str]
    """Changes whenever the rules change, so that saved verdicts say which rules made them."""
    labels: ClassVar[tuple[str, ...]]
    """Every verdict this judge gives."""
    Row: ClassVar[type[ReplyRow]]
    """What one row to judge holds: the item's fields and the reply."""
    shipped_items: ClassVar[str | None] = None
    """The shipped data file whose items a row may name by ``item_id`` instead of repeating
    their fields, relative to the package."""
    question: ClassVar[str]
    """The question the judge answers, in one line (shown on its card)."""
    validation_dir: ClassVar[Path | None] = None
    """Where a judge defined outside auditkit keeps its labelled sets (``<stem>.jsonl``, and
    ``heldout/<stem>.jsonl``); ``None``: the package's ``data/judges``."""

    @abstractmethod
    def judge(self, row: RowT) -> Verdict:
        """The verdict on one row."""

    def judge_many(self, rows: Sequence[RowT]) -> list[Verdict]:
        return [self.judge(row) for row in rows]


JudgeT = TypeVar("JudgeT", bound=type[Judge[Any]])


def register_judge(cls: JudgeT) -> JudgeT:
    """Class decorator: make ``cls`` available by its ``name``."""
    JUDGES.add(cls.name, cls)
    return cls


def judge_named(name: str, **options: Any) -> Judge[Any]:
    """The judge registered as ``name``, built with ``options``; ``UserError`` naming the known
    ones otherwise."""
    if name not in JUDGES:
        raise UserError(JUDGES.unknown(name))
    return JUDGES[name](**options)


def package_file(relative: str) -> Path:
    from importlib import resources

    return Path(str(resources.files("auditkit") / relative))


Split = Literal["heldout", "development"]
"""The two labelled sets of a judge: ``development`` (written before the rules were tuned, then
used to tune them: accuracy there is optimistic) and ``heldout`` (written after, by someone who
saw neither the rules nor the development set, and never tuned on: what cards and corrected rates
use)."""


def validation_path(name: str, split: Split = "heldout", *, folder: Path | None = None) -> Path:
    """The labelled set ``split`` of the judge whose set stem is ``name``: in ``folder`` (a
    plugin judge's ``validation_dir``) or else in the package's ``data/judges``; the held-out set
    lies in a ``heldout`` subfolder of either."""
    if folder is not None:
        return (folder / "heldout" if split == "heldout" else folder) / f"{name}.jsonl"
    shipped = "data/judges/heldout" if split == "heldout" else "data/judges"
    return package_file(f"{shipped}/{name}.jsonl")


def read_rows(
    path: Path,
    judge: Judge[Any],
    *,
    extra: type[BaseModel] | None = None,
    reply_from: str | None = None,
) -> list[Any]:
    """Rows of ``path`` (JSONL) as ``judge.Row``; a row naming ``item_id`` takes the shipped
    item's fields for whatever it does not give itself. ``extra`` validates further fields of
    each row (e.g. a validation set's ``label``); rows then come back as ``(row, extra)``.
    ``reply_from`` names a field that stands for ``reply`` in rows without one (``output`` in a
    saved ``samples.jsonl``)."""
    items = _shipped(judge.shipped_items) if judge.shipped_items else {}
    rows: list[Any] = []
    problems: list[str] = []
    for number, line in enumerate(read_user_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("a row must be a JSON object")
            if reply_from and "reply" not in raw and reply_from in raw:
                raw = {**raw, "reply": raw[reply_from]}
            item_id = raw.get("item_id")
            if item_id is not None and items:
                if item_id not in items:
                    raise ValueError(f"item_id {item_id!r} names no item of {judge.shipped_items}")
                raw = {**items[item_id], **raw}
            row = judge.Row.model_validate(raw)
            rows.append((row, extra.model_validate(raw)) if extra else row)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}:{exc.colno}: not valid JSON: {exc.msg}")
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "row"
                problems.append(f"{path}:{number}: {where}: {error['msg']}")
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
    if problems:
        raise UserError(problems[:20])
    if not rows:
        raise UserError(f"{path}: no rows (the file is empty)")
    return rows


def _shipped(relative: str) -> dict[str, dict[str, Any]]:
    lines = package_file(relative).read_text(encoding="utf-8").splitlines()
    return {item["id"]: item for item in map(json.loads, filter(str.strip, lines))}
