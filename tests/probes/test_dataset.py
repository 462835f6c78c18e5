"""The data-driven probe base: the suite's file or the shipped one, select, limit, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from auditkit.errors import UserError
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.dataset import DatasetProbe, DatasetSpec


class Prompt(BaseModel):
    id: str
    text: str


class EchoSpec(DatasetSpec):
    kind: Literal["test.echo"]


class Echo(DatasetProbe[EchoSpec, Prompt]):
    kind = "test.echo"
    Spec = EchoSpec
    Item = Prompt

    def select(self, items: list[Prompt]) -> list[Prompt]:
        return [item for item in items if not item.text.startswith("#")]

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        raise NotImplementedError


def echo(tmp_path: Path, **params: object) -> Echo:
    spec = EchoSpec.model_validate(
        {"id": "e", "kind": "test.echo", **params}, context={"base_dir": str(tmp_path)}
    )
    return Echo(spec)


def test_items_are_selected_then_limited(tmp_path: Path) -> None:
    lines = [
        '{"id": "a", "text": "x"}',
        '{"id": "b", "text": "# skip"}',
        '{"id": "c", "text": "y"}',
    ]
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [i.id for i in echo(tmp_path, data="p.jsonl").items()] == ["a", "c"]
    assert [i.id for i in echo(tmp_path, data="p.jsonl", limit=1).items()] == ["a"]
    assert echo(tmp_path, data="p.jsonl").data_files() == [tmp_path / "p.jsonl"]


def test_bad_lines_are_reported_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "p.jsonl").write_text('{"id": "a", "text": "x"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"p\.jsonl:2"):
        echo(tmp_path, data="p.jsonl").check_data()


def test_without_a_shipped_file_the_suite_must_name_one(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"needs `data:`"):
        echo(tmp_path).check_data()
