"""Gates end to end on mock models: verdicts, exit codes, JUnit, annotations, re-gating."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from auditkit.results import AuditResult
from tests.test_cli import assert_clean_exit, invoke, stderr_of

# 20 items where the right answer is always the longest choice: mock:longest gets all of them
# right and mock:shortest none, so every verdict below is certain.
ITEMS = [
    {
        "id": f"i{n}",
        "question": f"q{n}",
        "choices": ["a", "bb", "a much longer answer"],
        "answer": 2,
    }
    for n in range(20)
]


def write(folder: Path, models: str, gates: str, extra: str = "", baseline: str = "short") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in ITEMS))
    path = folder / "suite.yaml"
    path.write_text(
        "schema_version: 1\n"
        "name: gated\n"
        f"models:\n{models}"
        f"baseline: {baseline}\n"
        "probes:\n"
        "  - id: knowledge\n"
        "    kind: multiple_choice\n"
        "    data: items.jsonl\n"
        f"    gates:\n{gates}"
        f"{extra}"
    )
    return path


MODELS = (
    "  - {id: short, source: 'mock:shortest'}\n"
    "  - {id: same, source: 'mock:abstain'}\n"
    "  - {id: long, source: 'mock:longest'}\n"
)
GATES = (
    "      - {metric: accuracy, max_drop: 0.05}\n"  # line 13
    "      - {metric: accuracy, min: 0.5}\n"  # line 14
)


def verdicts(out: Path) -> dict[tuple[str, str], str]:
    result = AuditResult.read(out / "results.json")
    return {(v.model_id, v.rule): v.status for v in result.verdicts}


def test_failing_gate_exits_1_with_junit_and_annotations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    suite = write(tmp_path, MODELS, GATES)
    out = tmp_path / "out"

    result = invoke("run", suite, "--out", out)

    assert_clean_exit(result, 1)
    assert verdicts(out) == {
        ("same", "accuracy drop ≤ 0.05 vs short"): "pass",
        ("long", "accuracy drop ≤ 0.05 vs short"): "pass",
        ("short", "accuracy ≥ 0.5"): "fail",
        ("same", "accuracy ≥ 0.5"): "fail",
        ("long", "accuracy ≥ 0.5"): "pass",
    }
    saved = AuditResult.read(out / "results.json")
    long_vs_short = next(
        c for c in saved.comparisons if c.model_id == "long" and c.metric == "accuracy"
    )
    assert (long_vs_short.difference, long_vs_short.n, long_vs_short.changed) == (1.0, 20, 20)
    assert long_vs_short.p_value == pytest.approx(2 * 0.5**20)

    suite_junit = ET.parse(out / "junit.xml").getroot()
    cases = suite_junit.iter("testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert sorted(failed) == ["same: accuracy ≥ 0.5", "short: accuracy ≥ 0.5"]

    annotations = [line for line in result.output.splitlines() if line.startswith("::")]
    assert annotations == [
        f"::error file={suite},line=14,title=auditkit gate fail::short: accuracy ≥ 0.5: fail "
        "(the whole interval is on the wrong side of the threshold)",
        f"::error file={suite},line=14,title=auditkit gate fail::same: accuracy ≥ 0.5: fail "
        "(the whole interval is on the wrong side of the threshold)",
    ]


def test_passing_gates_exit_0(tmp_path: Path) -> None:
    models = "  - {id: short, source: 'mock:longest'}\n  - {id: long, source: 'mock:longest'}\n"
    suite = write(tmp_path, models, GATES)

    result = invoke("run", suite, "--out", tmp_path / "out")

    assert_clean_exit(result, 0)
    assert set(verdicts(tmp_path / "out").values()) == {"pass"}
    assert "gates: 3/3 pass" in result.output


def test_inconclusive_fails_unless_the_policy_lets_it_pass(tmp_path: Path) -> None:
    models = "  - {id: short, source: 'mock:longest'}\n"
    # With all 20 right, the Wilson interval is [0.839, 1]: a 0.9 floor cannot be settled.
    gates = "      - {metric: accuracy, min: 0.9}\n"
    strict = write(tmp_path / "strict", models, gates)
    lenient = write(tmp_path / "lenient", models, gates, extra="policy: {inconclusive: pass}\n")

    assert_clean_exit(invoke("run", strict, "--out", tmp_path / "a"), 1)
    assert_clean_exit(invoke("run", lenient, "--out", tmp_path / "b"), 0)
    saved = AuditResult.read(tmp_path / "a" / "results.json")
    [verdict] = saved.verdicts
    assert verdict.status == "inconclusive"
    assert verdict.n_needed is not None and verdict.n_needed > 20


def test_license_gate(tmp_path: Path) -> None:
    models = (
        "  - {id: short, source: 'mock:longest', license: apache-2.0}\n"
        "  - {id: nc, source: 'mock:longest', license: cc-by-nc-4.0}\n"
        "  - {id: unknown, source: 'mock:longest'}\n"
    )
    suite = write(
        tmp_path,
        models,
        "      - {metric: accuracy, min: 0.5}\n",
        extra="intended_use: commercial\npolicy: {license_gate: true}\n",
    )

    assert_clean_exit(invoke("run", suite, "--out", tmp_path / "out"), 1)
    saved = AuditResult.read(tmp_path / "out" / "results.json")
    licenses = {v.model_id: v.status for v in saved.verdicts if v.metric == "license"}
    assert licenses == {"short": "pass", "nc": "fail", "unknown": "inconclusive"}
    assert [r.verdict for r in saved.licenses] == ["allowed", "forbidden", "review"]


def test_gate_command_rejudges_saved_results(tmp_path: Path) -> None:
    suite = write(tmp_path, MODELS, GATES)
    out = tmp_path / "out"
    assert_clean_exit(invoke("run", suite, "--out", out), 1)

    # The saved gates give the same verdict without any model.
    assert_clean_exit(invoke("gate", out), 1)
    # A suite whose only gate is the drop gate passes.
    relaxed = write(tmp_path / "relaxed", MODELS, "      - {metric: accuracy, max_drop: 0.05}\n")
    result = invoke("gate", out, "--suite", relaxed)
    assert_clean_exit(result, 0)
    assert set(verdicts(out).values()) == {"pass"}
    assert (out / "junit.xml").is_file()


def test_gate_on_a_damaged_samples_file_names_the_line(tmp_path: Path) -> None:
    suite = write(tmp_path, MODELS, GATES)
    out = tmp_path / "out"
    assert_clean_exit(invoke("run", suite, "--out", out), 1)
    samples = out / "samples.jsonl"
    lines = samples.read_text("utf-8").splitlines()
    lines[4] = lines[4][: len(lines[4]) // 2]  # a line cut short, as by a full disk
    samples.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = (out / "results.json").read_bytes()

    result = invoke("gate", out)

    assert_clean_exit(result, 2)
    (message,) = [line for line in stderr_of(result).splitlines() if line.strip()]
    assert message.startswith(f"{samples}:5: not a samples.jsonl record: not valid JSON: ")
    assert (out / "results.json").read_bytes() == before  # nothing judged on part of the data


def test_gate_on_an_unknown_metric_is_bad_input(tmp_path: Path) -> None:
    suite = write(tmp_path, MODELS, "      - {metric: acuracy, min: 0.5}\n")

    result = invoke("validate", suite)

    assert_clean_exit(result, 2)
    assert f"{suite}:13:10: probes[0].gates[0].metric: multiple_choice reports no metric " in (
        result.output
    )
    assert "(did you mean 'accuracy'?)" in result.output


def test_relative_gate_without_baseline_is_bad_input(tmp_path: Path) -> None:
    suite = write(tmp_path, MODELS, GATES)
    suite.write_text(suite.read_text().replace("baseline: short\n", ""))

    result = invoke("validate", suite)

    assert_clean_exit(result, 2)
    assert "max_drop compares with the baseline: set 'baseline'" in result.output
