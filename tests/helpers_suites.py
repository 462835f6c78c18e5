"""Shared helpers for the suite, runner, CLI and probe tests: small suites and data files on disk.

Everything here uses ``mock:`` models (deterministic fakes) or a model that fails to load
(``hf:./empty-dir``, an existing empty folder next to the suite), so no test loads real weights.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from auditkit.errors import UserError
from auditkit.suite import load_suite

# Four multiple-choice items whose outcome on ``mock:shortest`` is known by hand. With the default
# choice prefix " ", mock:shortest scores a choice as -(1 + its length in characters).
ITEMS: list[dict[str, Any]] = [
    {"id": "q1", "domain": "math", "question": "one", "choices": ["aa", "b", "cccc"], "answer": 1},
    {"id": "q2", "domain": "math", "question": "two", "choices": ["x", "yy"], "answer": 0},
    {
        "id": "q3",
        "domain": "text",
        "question": "three",
        "choices": ["long answer", "no"],
        "answer": 0,
    },
    {"question": "four", "choices": ["ééé", "ab"], "answer": 0},
]

SUITE = """\
schema_version: 1
name: demo
models:
  - id: a
    source: mock:shortest
probes:
  - id: knowledge
    kind: multiple_choice
    data: items.jsonl
"""
"""A valid suite; line numbers in the tests refer to this text."""


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def write_suite(
    folder: Path, text: str = SUITE, *, items: list[dict[str, Any]] | None = None
) -> Path:
    """Write ``text`` (dedented) as ``folder/suite.yaml`` next to ``items.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "items.jsonl", ITEMS if items is None else items)
    path = folder / "suite.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, **kwargs: Any) -> list[str]:
    """The problem lines ``load_suite`` reports for ``path`` (fails the test if it loads)."""
    with pytest.raises(UserError) as caught:
        load_suite(path, **kwargs)
    return caught.value.problems


def run_suite_text(models: str, *, limit: int | None = None) -> str:
    """A suite with the given ``models:`` block (already indented) and one multiple-choice probe."""
    limit_line = f"    limit: {limit}\n" if limit is not None else ""
    return (
        "schema_version: 1\n"
        "name: run-demo\n"
        "seed: 7\n"
        "device: cpu\n"
        "models:\n"
        f"{models}"
        "probes:\n"
        "  - id: mc\n"
        "    kind: multiple_choice\n"
        "    data: items.jsonl\n"
        f"{limit_line}"
    )


MOCK_MODELS = """\
  - id: short
    source: mock:shortest
  - id: long
    source: mock:longest
"""

MOCK_AND_BROKEN_MODELS = """\
  - id: short
    source: mock:shortest
  - id: broken
    source: hf:./empty-dir
  - id: long
    source: mock:longest
"""


def write_run_suite(folder: Path, models: str = MOCK_MODELS, **kwargs: Any) -> Path:
    """A runnable suite in ``folder`` (with ``empty-dir/`` for the model that fails to load)."""
    (folder / "empty-dir").mkdir(parents=True, exist_ok=True)
    return write_suite(folder, run_suite_text(models, **kwargs))


TIMING_FIELDS = frozenset({"seconds", "load_seconds"})


def without_timing(value: Any) -> Any:
    """``value`` (parsed JSON) with every timing field removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_FIELDS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Textbook Wilson score interval, written in the (k + z²/2) / (n + z²) form."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    centre = (successes + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(successes * (n - successes) / n + z * z / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def softmax(logprobs: list[float]) -> list[float]:
    weights = [math.exp(x - max(logprobs)) for x in logprobs]
    return [w / sum(weights) for w in weights]
