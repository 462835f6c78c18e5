"""Reading probe data files: typed items, and every bad line reported as ``FILE:LINE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditkit.errors import UserError
from auditkit.jsonl import MAX_REPORTED, read_jsonl
from auditkit.probes.multiple_choice import MultipleChoiceItem

GOOD = '{"id": "g1", "question": "q", "choices": ["a", "b"], "answer": 1, "domain": "d"}'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "items.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        read_jsonl(path, MultipleChoiceItem)
    return caught.value.problems


def item_line(**fields: object) -> str:
    record: dict[str, object] = {"question": "q", "choices": ["a", "b"], "answer": 0}
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not None})


def test_reads_typed_items_skipping_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n{GOOD}\n   \n{item_line(answer=0, extra='ignored')}\n\n")

    items = read_jsonl(path, MultipleChoiceItem)

    assert items == [
        MultipleChoiceItem(id="g1", question="q", choices=["a", "b"], answer=1, domain="d"),
        MultipleChoiceItem(question="q", choices=["a", "b"], answer=0),
    ]


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, f"{GOOD}\n\n{GOOD[:-1]}\nnot json\n")

    assert problems(path) == [
        f"{path}:3:{len(GOOD)}: not valid JSON: Expecting ',' delimiter",
        f"{path}:4:1: not valid JSON: Expecting value",
    ]


def test_schema_errors_name_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\n".join(
            [
                GOOD,
                item_line(answer="x"),
                item_line(question="", answer=None),
                "[1, 2]",
            ]
        ),
    )

    assert problems(path) == [
        f"{path}:2: answer: Input should be a valid integer, unable to parse string as an integer",
        f"{path}:3: question: String should have at least 1 character",
        f"{path}:3: answer: Field required",
        f"{path}:4: item: Input should be a valid dictionary or instance of MultipleChoiceItem",
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"answer": 2}, "item: answer 2 is not an index into 2 choices"),
        ({"answer": -1}, "item: answer -1 is not an index into 2 choices"),
        ({"choices": ["a", "a"]}, "choices: choices must be distinct"),
        ({"choices": ["a", " "]}, "choices: choices must not be empty"),
        (
            {"choices": ["only"]},
            "choices: List should have at least 2 items after validation, not 1",
        ),
    ],
)
def test_multiple_choice_item_rules(
    tmp_path: Path, fields: dict[str, object], expected: str
) -> None:
    path = write(tmp_path, f"{GOOD}\n{item_line(**fields)}\n")

    assert problems(path) == [f"{path}:2: {expected}"]


def test_empty_file_is_reported(tmp_path: Path) -> None:
    for text in ["", "\n  \n\n"]:
        path = write(tmp_path, text)
        assert problems(path) == [f"{path}: no items (the file is empty)"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.jsonl"

    assert problems(path) == [f"{path}: file not found"]


def test_more_than_the_cap_is_summarised(tmp_path: Path) -> None:
    assert MAX_REPORTED == 20
    path = write(tmp_path, "\n".join([GOOD] + ["{bad"] * 25) + "\n")

    found = problems(path)

    assert len(found) == 21
    assert (
        found[0] == f"{path}:2:2: not valid JSON: Expecting property name enclosed in double quotes"
    )
    assert found[19].startswith(f"{path}:21:2: ")
    assert found[20] == f"{path}: … and 5 more problems"


def test_exactly_the_cap_has_no_summary(tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join(["{bad"] * 20) + "\n")

    found = problems(path)

    assert len(found) == 20
    assert not any("more problems" in line for line in found)
