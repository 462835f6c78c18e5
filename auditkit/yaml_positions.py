"""Safe YAML loading that remembers where every value was written.

Suites are data, so only ``yaml.SafeLoader`` is used: tags such as ``!!python/object`` are refused.
The positions let validation errors point at ``FILE:LINE:COL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditkit.errors import UserError
from auditkit.files import read_user_text

Location = tuple[str | int, ...]
Positions = dict[Location, tuple[int, int]]


def load_yaml(path: Path) -> tuple[Any, Positions]:
    """Parse ``path`` and return the data plus the 1-based (line, column) of every key and item."""
    text = read_user_text(path)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # raised before parsing: control characters
        line = text[: exc.position].count("\n") + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise UserError(
            f"{path}:{line}:{column}: control character U+{code:04X} is not allowed in YAML; "
            "remove it"
        ) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid YAML"
        if "constructor for the tag" in problem:
            problem = (
                f"{problem.strip()} (suites are data: YAML tags that build objects are refused)"
            )
        raise UserError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    positions: Positions = {}
    duplicates: list[str] = []
    if node is not None:
        _record(node, (), positions, duplicates)
    if duplicates:
        raise UserError([f"{path}:{problem}" for problem in duplicates])
    return data, positions


def _record(
    node: yaml.Node, location: Location, positions: Positions, duplicates: list[str]
) -> None:
    positions.setdefault(location, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = (*location, key)
            if child in positions:
                # YAML lets the last duplicate win silently; in a suite that hides a mistake.
                first = positions[child][0]
                mark = key_node.start_mark
                duplicates.append(
                    f"{mark.line + 1}:{mark.column + 1}: duplicate key {key!r} "
                    f"(first written on line {first})"
                )
            # Point at the key: that is the line a reader looks for.
            positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _record(value_node, child, positions, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, (*location, index), positions, duplicates)


def position_of(location: Location, positions: Positions) -> tuple[int, int] | None:
    """Position of ``location``, or of its nearest written ancestor (a missing key's parent)."""
    for end in range(len(location), -1, -1):
        if location[:end] in positions:
            return positions[location[:end]]
    return None
