from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.report.samples import (
    MAX_LINES_NAMED,
    MAX_PER_KIND,
    MAX_TEXT,
    MAX_TOTAL,
    PREVIEW,
    Text,
    format_scores,
    read_samples,
    select_samples,
    to_record,
    trim,
)
from auditkit.results import AuditResult

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _row(
    model: str, item: str, output: str, correct: float, probe: str = "p", **extra: Any
) -> dict[str, Any]:
    return {
        "model_id": model,
        "probe_id": probe,
        "item_id": item,
        "input": f"question {item}",
        "output": output,
        "target": "A",
        "scores": {"correct": correct, "logprob": -1.5},
        "details": {},
        **extra,
    }


def _result(
    build: type[Build], models: list[str], probes: list[str], baseline: str | None
) -> AuditResult:
    return build.result(
        [build.model(m, {p: [build.metric()] for p in probes}) for m in models],
        probes,
        baseline=baseline,
    )


def test_read_samples_skips_what_is_not_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    good = _row("a", "1", "A", 1.0)
    lines = [json.dumps(good), "{not json", "", "[1, 2]", '"text"', json.dumps(good) + "  "]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe{broken\n")
    rows = read_samples(path)
    assert rows == [good, good]
    assert [bad.line for bad in rows.skipped] == [2, 4, 5, 7]
    assert read_samples(tmp_path / "missing.jsonl") == []


def test_skipped_lines_are_noted_in_the_explorer(build: type[Build], tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    good = json.dumps(_row("a", "1", "A", 0.0))
    path.write_text("\n".join([good, "{not json", good]) + "\n", encoding="utf-8")
    explorer = select_samples(_result(build, ["a"], ["p"], None), read_samples(path))
    assert (explorer.records, explorer.shown) == (2, 0)
    assert explorer.skipped_note == (
        "Left out 1 line of samples.jsonl that is not a sample record: line 2 "
        "(line 2: not valid JSON: Expecting property name enclosed in double quotes (column 2))."
    )
    path.write_text("\n".join([good] + ["[]"] * (MAX_LINES_NAMED + 1)) + "\n", encoding="utf-8")
    explorer = select_samples(_result(build, ["a"], ["p"], None), read_samples(path))
    assert explorer.skipped_note == (
        f"Left out {MAX_LINES_NAMED + 1} lines of samples.jsonl that are not sample records: "
        f"lines {', '.join(str(n) for n in range(2, MAX_LINES_NAMED + 2))}… "
        "(line 2: not a JSON object)."
    )
    rows = [_row("a", "1", "A", 0.0)]
    assert select_samples(_result(build, ["a"], ["p"], None), rows).skipped_note == ""


def test_to_record_needs_ids_and_stringifies_the_rest() -> None:
    assert to_record({"model_id": "a", "probe_id": "p"}) is None
    assert to_record({"model_id": None, "probe_id": "p", "item_id": "1"}) is None
    record = to_record(
        {"model_id": "a", "probe_id": "p", "item_id": 7, "output": ["x", 1], "scores": [1]}
    )
    assert record is not None
    assert (record.item_id, record.input, record.output, record.scores) == ("7", "", '["x", 1]', ())


def test_trim_keeps_short_text_and_folds_long_text() -> None:
    assert trim("short") == Text("short")
    long = "x" * (PREVIEW + 1)
    assert trim(long) == Text("x" * PREVIEW + "…", long)
    huge = "y" * (MAX_TEXT + 10)
    folded = trim(huge)
    assert folded.full == "y" * MAX_TEXT + f"… ({MAX_TEXT + 10:,} chars)"


def test_format_scores() -> None:
    scores = [("correct", 1.0), ("logprob", -2.3456), ("ok", True), ("label", "B")]
    assert format_scores(scores) == "correct = 1 · logprob = −2.346 · ok = true · label = B"


def test_changed_items_are_those_whose_output_differs(build: type[Build]) -> None:
    rows = [
        _row("base", "1", "A", 1.0), _row("base", "2", "B", 0.0), _row("base", "3", "C", 1.0),
        _row("cand", "1", "A", 1.0), _row("cand", "2", "C", 0.0), _row("cand", "3", "D", 0.0),
    ]  # fmt: skip
    explorer = select_samples(_result(build, ["base", "cand"], ["p"], "base"), rows)
    (probe,) = explorer.probes
    assert probe.score_key == "correct"
    shown = [(r.item_id, r.model_id, r.reasons) for r in probe.rows]
    assert shown == [
        ("2", "base", ("worst",)),
        ("2", "cand", ("changed", "worst")),
        ("3", "cand", ("changed", "worst")),
    ]
    assert [r.baseline_output for r in probe.rows] == [None, Text("B"), Text("C")]
    assert probe.rows[1].scores == "correct = 0 · logprob = −1.5"
    assert explorer.models == ("base", "cand")
    assert (explorer.records, explorer.shown) == (6, 3)


def test_without_a_baseline_only_worst_items(build: type[Build]) -> None:
    rows = [_row("a", "1", "A", 0.0), _row("b", "1", "B", 1.0), _row("b", "2", "B", 0.5)]
    explorer = select_samples(_result(build, ["a", "b"], ["p"], None), rows)
    assert [(r.item_id, r.model_id, r.reasons) for r in explorer.probes[0].rows] == [
        ("1", "a", ("worst",)),
        ("2", "b", ("worst",)),
    ]


def test_worst_follows_the_first_score_key_and_skips_unscored(build: type[Build]) -> None:
    rows = [
        {**_row("a", "1", "x", 0.0), "scores": {"f1": 0.9, "correct": 0.0}},
        {**_row("a", "2", "x", 0.0), "scores": {"f1": 0.2}},
        {**_row("a", "3", "x", 0.0), "scores": {"f1": "n/a"}},
        {**_row("a", "4", "x", 0.0), "scores": {"f1": float("nan")}},
        {**_row("a", "5", "x", 0.0), "scores": {"f1": 0.5}},
        {**_row("a", "6", "x", 0.0), "scores": {}},
    ]
    explorer = select_samples(_result(build, ["a"], ["p"], None), rows)
    (probe,) = explorer.probes
    assert probe.score_key == "f1"
    # ranked 2 (0.2) then 5 (0.5); item 1 holds the top score; shown in file order
    assert [r.item_id for r in probe.rows] == ["2", "5"]


def test_caps_per_probe_and_kind(build: type[Build]) -> None:
    rows = []
    for i in range(100):
        rows += [
            _row("base", str(i), "A", 1.0),
            _row("c1", str(i), "B", 0.0),
            _row("c2", str(i), "C", 0.0),
        ]
    rows.append(_row("base", "top", "A", 2.0))
    explorer = select_samples(_result(build, ["base", "c1", "c2"], ["p"], "base"), rows)
    (probe,) = explorer.probes
    changed = [r for r in probe.rows if "changed" in r.reasons]
    worst = [r for r in probe.rows if "worst" in r.reasons]
    assert len(changed) == MAX_PER_KIND
    # changed rows alternate between the candidates: 15 each
    assert sum(r.model_id == "c1" for r in changed) == MAX_PER_KIND // 2
    assert len(worst) == MAX_PER_KIND


def test_total_cap_over_probes(build: type[Build]) -> None:
    probes = [f"p{i}" for i in range(12)]
    rows = [
        _row(m, str(i), m, float(i % 2) if m == "base" else 0.0, probe=p)
        for p in probes
        for i in range(40)
        for m in ("base", "cand")
    ]
    explorer = select_samples(_result(build, ["base", "cand"], probes, "base"), rows)
    assert explorer.shown == MAX_TOTAL
    # per probe: 30 changed (cand), 15 worst of each model, of which cand's are among the changed
    assert [len(p.rows) for p in explorer.probes] == [45] * 6 + [30]


def test_unknown_probes_and_models_come_last(build: type[Build]) -> None:
    rows = [
        _row("ghost", "1", "A", 0.0, probe="extra"),
        _row("ghost", "2", "A", 1.0, probe="extra"),
        _row("a", "1", "A", 0.0),
        _row("a", "2", "A", 1.0),
    ]
    explorer = select_samples(_result(build, ["a"], ["p"], None), rows)
    assert [p.probe_id for p in explorer.probes] == ["p", "extra"]
    assert explorer.models == ("a", "ghost")


def test_duplicate_records_count_once(build: type[Build]) -> None:
    rows = [_row("a", "1", "A", 0.0), _row("a", "1", "B", 0.0), _row("a", "2", "C", 1.0)]
    explorer = select_samples(_result(build, ["a"], ["p"], None), rows)
    assert [r.output for r in explorer.probes[0].rows] == [Text("A")]


def test_no_worst_items_when_every_score_is_the_same(build: type[Build]) -> None:
    rows = [_row("a", str(i), "A", 1.0) for i in range(5)]
    assert select_samples(_result(build, ["a"], ["p"], None), rows).shown == 0


def test_nothing_to_show(build: type[Build]) -> None:
    explorer = select_samples(_result(build, ["a"], ["p"], None), [])
    assert (explorer.probes, explorer.models, explorer.shown) == ((), (), 0)


def test_lone_surrogates_from_json_escapes_are_replaced(build: type[Build]) -> None:
    row = json.loads('{"model_id": "a\\ud800", "probe_id": "p", "item_id": "1", '
                     '"input": "x\\udc00", "scores": {"k\\ud800": 0}}')  # fmt: skip
    record = to_record(row)
    assert record is not None
    assert (record.model_id, record.input) == ("a\ufffd", "x\ufffd")
    assert format_scores(record.scores) == "k\ufffd = 0"
