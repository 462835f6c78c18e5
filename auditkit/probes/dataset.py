"""Probes over one JSONL file of items: the suite's ``data``, else a file that ships with auditkit.

Such a probe names its item model (``Item``) and its built-in file (``builtin``); reading,
validating (every bad line reported with ``FILE:LINE``), optional filtering (``select``) and the
``limit`` come from here, so every data-driven probe treats its data the same way.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, ClassVar, Generic, TypeVar, cast

from pydantic import AfterValidator, BaseModel, Field

from auditkit.errors import UserError
from auditkit.jsonl import read_jsonl
from auditkit.probes.base import Probe, ProbeSpec, SuitePath


def _has_question_slot(prompt: str) -> str:
    if "{question}" not in prompt:
        raise ValueError("the prompt template must contain {question}")
    return prompt


QuestionTemplate = Annotated[str, AfterValidator(_has_question_slot)]
"""A prompt template with a ``{question}`` slot, checked when the suite is loaded."""


def distinct_texts(texts: list[str], what: str) -> list[str]:
    """``texts`` if none is blank and none repeats; else ``ValueError`` naming ``what`` (for
    item validators: choices, answers)."""
    if any(not text.strip() for text in texts):
        raise ValueError(f"{what} must not be empty")
    if len(set(texts)) != len(texts):
        raise ValueError(f"{what} must be distinct")
    return texts


def builtin_data(relative: str) -> Path:
    """A data file that ships with auditkit, e.g. ``data/toxicity/prompts.jsonl``."""
    return Path(str(resources.files("auditkit") / relative))


class DatasetSpec(ProbeSpec):
    """Parameters of every probe that reads a JSONL file of items."""

    data: SuitePath | None = Field(None, description="JSONL data; default: auditkit's own set.")
    limit: int | None = Field(None, ge=1, description="Use only the first N items.")


DatasetSpecT = TypeVar("DatasetSpecT", bound=DatasetSpec)
ItemT = TypeVar("ItemT", bound=BaseModel)


class DatasetProbe(Probe[DatasetSpecT], Generic[DatasetSpecT, ItemT]):
    """A probe whose work items are the lines of one JSONL file."""

    builtin: ClassVar[str | None] = None
    """The file auditkit ships for this probe, used when the suite names no ``data``, relative
    to the package; ``None``: the suite must name one."""
    Item: ClassVar[type[BaseModel]]
    """The model each line is validated against."""

    @property
    def data_path(self) -> Path:
        if self.spec.data is not None:
            return self.spec.data
        if self.builtin is None:
            raise UserError(f"probe {self.spec.id!r} ({self.kind}) needs `data:` (a JSONL file)")
        return builtin_data(self.builtin)

    def data_files(self) -> list[Path]:
        return [self.data_path]

    def select(self, items: list[ItemT]) -> list[ItemT]:
        """The items this run uses, before ``limit`` (all of them unless a probe filters)."""
        return items

    def items(self) -> list[ItemT]:
        items = self.select(cast("list[ItemT]", read_jsonl(self.data_path, self.Item)))
        return items[: self.spec.limit] if self.spec.limit else items

    def check_data(self) -> None:
        self.items()
