"""``samples.jsonl`` records: the on-disk format, and the one reader's policy for bad lines."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditkit.errors import UserError
from auditkit.probes.base import Sample
from auditkit.report import samples as report_samples
from auditkit.samples_schema import (
    BAD_LINE,
    NOT_AN_OBJECT,
    NOT_UTF8,
    BadLine,
    SampleRecord,
    read_samples,
)
from auditkit.verdicts import read_samples as read_for_gating
from auditkit.worker import sample_data


@dataclass
class PluginSample(Sample):
    """A plugin's sample with fields of its own."""

    rationale: str = ""
    votes: list[int] = field(default_factory=list)


def runner_line(model_id: str, probe_id: str, sample: Sample) -> str:
    """A line exactly as the runner writes it."""
    data = {"model_id": model_id, "probe_id": probe_id, **sample_data(sample)}
    return json.dumps(data, ensure_ascii=False, default=str)


SAMPLES: list[Sample] = [
    Sample("q1", "Qu'est-ce que «π»?", "3.14 ≈ π", "π", {"correct": 1.0, "logprob": -1.25}),
    Sample(
        "q2",
        "",
        "",
        "",
        {"correct": 0.0, "count": 3, "flag": True, "nan": math.nan},
        {"path": Path("a/b"), "nested": {"t": (1, 2)}, "none": None},
    ),
    PluginSample("q3", "in", "out", "t", {"x": 0.5}, {}, rationale="because", votes=[1, 0]),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.item_id)
def test_a_runner_line_round_trips_byte_for_byte(sample: Sample) -> None:
    line = runner_line("model-a", "probe-1", sample)
    record = SampleRecord.model_validate(json.loads(line))
    assert record.to_line() == line


def test_plugin_fields_are_kept_in_order() -> None:
    line = runner_line("m", "p", SAMPLES[2])
    record = SampleRecord.model_validate(json.loads(line))
    assert record.extra == {"rationale": "because", "votes": [1, 0]}
    assert list(record.model_dump())[-2:] == ["rationale", "votes"]


def good_row(item: str = "1") -> dict[str, Any]:
    return {
        "model_id": "a",
        "probe_id": "p",
        "item_id": item,
        "input": "q",
        "output": "A",
        "target": "A",
        "scores": {"correct": 1.0},
        "details": {},
    }


BAD_LINES: list[tuple[bytes, str]] = [
    (b"{broken", "not valid JSON: Expecting property name enclosed in double quotes (column 2)"),
    (b"[1, 2]", NOT_AN_OBJECT),
    (b'"text"', NOT_AN_OBJECT),
    (b'{"model_id": "a"} \xff', NOT_UTF8),
    (
        json.dumps({**good_row(), "item_id": 7}).encode(),
        "item_id: Input should be a valid string",
    ),
    (
        json.dumps({k: v for k, v in good_row().items() if k not in ("target", "scores")}).encode(),
        "target: Field required (and 1 more field)",
    ),
    (
        json.dumps({**good_row(), "scores": {"label": "B"}}).encode(),
        "scores: score 'label' is not a number",
    ),
]


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_gating_stops_at_a_bad_line_with_file_and_line(
    tmp_path: Path, line: bytes, problem: str
) -> None:
    path = write(tmp_path / "samples.jsonl", [json.dumps(good_row()).encode(), b"", line])
    with pytest.raises(UserError) as caught:
        read_samples(path, strict=True)
    assert caught.value.problems == [BAD_LINE.format(path=path, line=3, problem=problem)]
    with pytest.raises(UserError) as again:
        read_for_gating(path)
    assert again.value.problems == caught.value.problems


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_the_report_skips_and_counts_a_bad_line(tmp_path: Path, line: bytes, problem: str) -> None:
    good = json.dumps(good_row()).encode()
    path = write(tmp_path / "samples.jsonl", [good, b"   ", line, good])
    found = read_samples(path, strict=False)
    assert [r.item_id for r in found.records] == ["1", "1"]
    assert found.bad_lines == (BadLine(3, problem),)
    rows = report_samples.read_samples(path)
    assert rows == [good_row(), good_row()]
    assert rows.skipped == (BadLine(3, problem),)


def test_blank_lines_and_a_missing_file_are_not_errors(tmp_path: Path) -> None:
    assert read_samples(tmp_path / "missing.jsonl", strict=True).records == []
    path = write(tmp_path / "samples.jsonl", [b"", json.dumps(good_row("9")).encode(), b"  "])
    found = read_samples(path, strict=True)
    assert ([r.item_id for r in found.records], found.bad_lines) == (["9"], ())
