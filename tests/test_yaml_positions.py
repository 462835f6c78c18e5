"""Safe YAML loading with the 1-based (line, column) of every key and list item."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.errors import UserError
from auditkit.yaml_positions import load_yaml, position_of

TEXT = """\
# a comment first
name: demo
models:
  - id: a
    source: mock:shortest
  - id: b
    tags: [x, y]
empty:
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_data_is_parsed_as_plain_python(tmp_path: Path) -> None:
    data, _ = load_yaml(write(tmp_path, TEXT))

    assert data == {
        "name": "demo",
        "models": [{"id": "a", "source": "mock:shortest"}, {"id": "b", "tags": ["x", "y"]}],
        "empty": None,
    }


def test_positions_of_keys_and_items(tmp_path: Path) -> None:
    _, positions = load_yaml(write(tmp_path, TEXT))

    assert positions == {
        (): (2, 1),
        ("name",): (2, 1),
        ("models",): (3, 1),
        ("models", 0): (4, 5),
        ("models", 0, "id"): (4, 5),
        ("models", 0, "source"): (5, 5),
        ("models", 1): (6, 5),
        ("models", 1, "id"): (6, 5),
        ("models", 1, "tags"): (7, 5),
        ("models", 1, "tags", 0): (7, 12),
        ("models", 1, "tags", 1): (7, 15),
        ("empty",): (8, 1),
    }


def test_flow_style_positions(tmp_path: Path) -> None:
    _, positions = load_yaml(write(tmp_path, "{a: 1, b: [x, {c: 2}]}\n"))

    assert positions[("a",)] == (1, 2)
    assert positions[("b",)] == (1, 8)
    assert positions[("b", 1)] == (1, 15)
    assert positions[("b", 1, "c")] == (1, 16)


def test_position_of_a_written_location(tmp_path: Path) -> None:
    _, positions = load_yaml(write(tmp_path, TEXT))

    assert position_of(("models", 1, "tags", 1), positions) == (7, 15)
    assert position_of(("models", 0, "source"), positions) == (5, 5)


def test_position_of_a_missing_key_falls_back_to_its_nearest_ancestor(tmp_path: Path) -> None:
    _, positions = load_yaml(write(tmp_path, TEXT))

    assert position_of(("models", 1, "source"), positions) == (6, 5)
    assert position_of(("models", 7, "source"), positions) == (3, 1)
    assert position_of(("probes", 0, "kind"), positions) == (2, 1)
    assert position_of((), positions) == (2, 1)


def test_position_of_with_no_positions() -> None:
    assert position_of(("name",), {}) is None


def test_empty_document(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, "")) == (None, {})
    assert load_yaml(write(tmp_path, "# nothing but a comment\n")) == (None, {})


def test_duplicate_keys_are_refused_at_the_second_one(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nmodels:\n  - id: m\n    id: n\nname: b\n")

    with pytest.raises(UserError) as caught:
        load_yaml(path)

    assert caught.value.problems == [
        f"{path}:4:5: duplicate key 'id' (first written on line 3)",
        f"{path}:5:1: duplicate key 'name' (first written on line 1)",
    ]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    with pytest.raises(UserError) as caught:
        load_yaml(path)

    assert caught.value.problems == [f"{path}: file not found"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))

    with pytest.raises(UserError) as caught:
        load_yaml(path)

    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: cannot read: 'utf-8' codec can't decode byte 0xe9")


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "a: 1\nb: [1, 2\nc: 3\n")

    with pytest.raises(UserError) as caught:
        load_yaml(path)

    assert caught.value.problems == [f"{path}:3:2: expected ',' or ']', but got ':'"]


@pytest.mark.parametrize(
    "tag",
    [
        '!!python/object/apply:os.system ["true"]',
        "!!python/name:os.system",
        "!!python/object:pathlib.Path {}",
    ],
    ids=["object-apply", "name", "object"],
)
def test_object_building_tags_are_refused(tmp_path: Path, tag: str) -> None:
    path = write(tmp_path, f"a: 1\nb: {tag}\n")

    with pytest.raises(UserError) as caught:
        load_yaml(path)

    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:2:4: could not determine a constructor for the tag ")
    assert problem.endswith("(suites are data: YAML tags that build objects are refused)")
