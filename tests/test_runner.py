"""The runner: every model × probe, error rows instead of crashes, and the files it writes."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from auditkit.errors import ExitCode
from auditkit.probes.multiple_choice import MultipleChoice
from auditkit.progress import LogProgress
from auditkit.results import AuditResult
from auditkit.runner import (
    ERROR_LOG_FILE,
    MANIFEST_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    AuditRun,
    exit_code_for,
)
from auditkit.suite import load_suite
from tests.helpers_suites import ITEMS, MOCK_AND_BROKEN_MODELS, without_timing, write_run_suite


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def execute(suite_path: Path, out: Path) -> tuple[AuditResult, str]:
    log = io.StringIO()
    result = AuditRun(load_suite(suite_path), out, LogProgress(stream=log)).execute()
    return result, log.getvalue()


def samples(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / SAMPLES_FILE).read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, AuditResult, str]:
    """Two mock models around one that fails to load (run once; the tests only read it)."""
    folder = tmp_path_factory.mktemp("broken-run")
    suite_path = write_run_suite(folder / "suite", MOCK_AND_BROKEN_MODELS)
    out = folder / "out"
    result, log = execute(suite_path, out)
    return suite_path, out, result, log


def test_a_failing_model_is_an_error_row_and_the_others_still_run(
    broken_run: tuple[Path, Path, AuditResult, str],
) -> None:
    _, _, result, log = broken_run

    assert [(m.model_id, m.status) for m in result.models] == [
        ("short", "ok"),
        ("broken", "error"),
        ("long", "ok"),
    ]
    broken = result.models[1]
    assert broken.error is not None
    assert (broken.error.type, broken.error.stage) == ("ModelLoadError", "load")
    assert broken.error.message
    assert (broken.info, broken.probes) == (None, [])
    assert result.errors == [("broken", None, broken.error)]
    assert exit_code_for(result) == ExitCode.RUN_FAILED == 3
    assert f"error: broken (load): {broken.error.message}" in log


def test_results_of_the_models_that_loaded(broken_run: tuple[Path, Path, AuditResult, str]) -> None:
    _, _, result, _ = broken_run

    for model_id, source, expected in [
        ("short", "mock:shortest", (0.5, 0.75)),
        ("long", "mock:longest", (0.5, 0.5)),
    ]:
        model = next(m for m in result.models if m.model_id == model_id)
        assert model.info is not None
        assert (model.info.source, model.info.architecture) == (source, "mock")
        [probe] = model.probes
        assert (probe.probe_id, probe.kind, probe.status, probe.n_samples) == (
            "mc",
            "multiple_choice",
            "ok",
            4,
        )
        accuracy, accuracy_norm = probe.metric("accuracy"), probe.metric("accuracy_norm")
        assert accuracy is not None
        assert accuracy_norm is not None
        assert (accuracy.value, accuracy_norm.value) == expected
    assert (result.suite_name, result.seed, result.baseline) == ("run-demo", 7, None)
    [summary] = result.probes
    assert (summary.id, summary.kind) == ("mc", "multiple_choice")
    assert summary.params == {
        "data": str(broken_run[0].parent / "items.jsonl"),
        "prompt": "Question: {question}\nAnswer:",
        "choice_prefix": " ",
        "limit": None,
        "gates": [],
    }


def test_results_json_round_trips(broken_run: tuple[Path, Path, AuditResult, str]) -> None:
    _, out, result, _ = broken_run

    assert AuditResult.read(out / RESULTS_FILE) == result


def test_samples_jsonl_has_one_line_per_model_and_item(
    broken_run: tuple[Path, Path, AuditResult, str],
) -> None:
    _, out, _, _ = broken_run

    records = samples(out)

    item_ids = ["q1", "q2", "q3", "4"]
    assert [(r["model_id"], r["probe_id"], r["item_id"]) for r in records] == [
        (model_id, "mc", item_id) for model_id in ("short", "long") for item_id in item_ids
    ]
    assert [r["output"] for r in records] == [
        "b",
        "x",
        "no",
        "ab",
        "cccc",
        "yy",
        "long answer",
        "ééé",
    ]
    assert [r["target"] for r in records[:4]] == [item["choices"][item["answer"]] for item in ITEMS]
    assert records[0]["details"]["logprobs"] == [-3.0, -2.0, -5.0]
    assert records[0]["scores"]["correct"] == 1.0


def test_manifest_hashes_the_suite_data_and_outputs(
    broken_run: tuple[Path, Path, AuditResult, str],
) -> None:
    suite_path, out, _, _ = broken_run

    manifest = json.loads((out / MANIFEST_FILE).read_text("utf-8"))

    data = suite_path.parent / "items.jsonl"
    assert manifest["manifest_version"] == 1
    assert manifest["suite"] == {"path": str(suite_path), "sha256": sha256(suite_path)}
    assert manifest["data_files"] == [
        {"path": str(data), "bytes": data.stat().st_size, "sha256": sha256(data)}
    ]
    assert manifest["models"] == {"short": [], "broken": [], "long": []}
    assert manifest["outputs"] == {
        RESULTS_FILE: sha256(out / RESULTS_FILE),
        SAMPLES_FILE: sha256(out / SAMPLES_FILE),
    }


def test_errors_log_has_the_traceback_of_the_failed_load(
    broken_run: tuple[Path, Path, AuditResult, str],
) -> None:
    _, out, result, _ = broken_run

    log = (out / ERROR_LOG_FILE).read_text("utf-8")

    assert log.startswith("== broken (load)\nTraceback (most recent call last):\n")
    assert f"ModelLoadError: {result.models[1].error.message}" in log  # type: ignore[union-attr]
    assert "== short" not in log
    assert "== long" not in log


def test_only_mock_models_exit_0_and_leave_no_error_log(tmp_path: Path) -> None:
    suite_path = write_run_suite(tmp_path / "suite")

    result, _ = execute(suite_path, tmp_path / "out")

    assert exit_code_for(result) == ExitCode.OK == 0
    assert result.errors == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        MANIFEST_FILE,
        RESULTS_FILE,
        SAMPLES_FILE,
    ]


def test_a_clean_rerun_removes_the_old_error_log(tmp_path: Path) -> None:
    out = tmp_path / "out"
    execute(write_run_suite(tmp_path / "broken", MOCK_AND_BROKEN_MODELS), out)
    assert (out / ERROR_LOG_FILE).exists()

    execute(write_run_suite(tmp_path / "clean"), out)

    assert not (out / ERROR_LOG_FILE).exists()


def test_two_runs_give_identical_results_apart_from_timing(tmp_path: Path) -> None:
    suite_path = write_run_suite(tmp_path / "suite")

    execute(suite_path, tmp_path / "first")
    execute(suite_path, tmp_path / "second")

    first = json.loads((tmp_path / "first" / RESULTS_FILE).read_text("utf-8"))
    second = json.loads((tmp_path / "second" / RESULTS_FILE).read_text("utf-8"))
    assert without_timing(first) == without_timing(second)
    assert "seconds" in first["models"][0]["probes"][0]
    assert "load_seconds" in first["models"][0]["info"]
    first_samples = (tmp_path / "first" / SAMPLES_FILE).read_bytes()
    assert first_samples == (tmp_path / "second" / SAMPLES_FILE).read_bytes()


def test_a_probe_that_raises_is_an_error_row_for_that_model_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = MultipleChoice.run

    def flaky(self: MultipleChoice, ctx: Any) -> Any:
        if ctx.model_id == "long":
            raise RuntimeError("probe exploded\nsecond line")
        return original(self, ctx)

    monkeypatch.setattr(MultipleChoice, "run", flaky)
    out = tmp_path / "out"

    result, _ = execute(write_run_suite(tmp_path / "suite"), out)

    short, long = result.models
    assert (short.status, short.probes[0].status) == ("ok", "ok")
    assert long.status == "ok"
    [probe] = long.probes
    assert (probe.status, probe.metrics, probe.n_samples) == ("error", [], 0)
    assert probe.error is not None
    assert (probe.error.type, probe.error.message, probe.error.stage) == (
        "RuntimeError",
        "probe exploded",
        "probe",
    )
    assert result.errors == [("long", "mc", probe.error)]
    assert exit_code_for(result) == ExitCode.RUN_FAILED
    assert {r["model_id"] for r in samples(out)} == {"short"}
    log = (out / ERROR_LOG_FILE).read_text("utf-8")
    assert log.startswith("== long × mc\nTraceback (most recent call last):\n")
    assert "RuntimeError: probe exploded" in log


def test_finished_models_survive_a_crash_later_in_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditkit.runner

    original = auditkit.runner.load_model

    def crash_on_long(spec: Any, device: str) -> Any:
        if spec.id == "long":
            raise KeyboardInterrupt
        return original(spec, device)

    monkeypatch.setattr(auditkit.runner, "load_model", crash_on_long)
    out = tmp_path / "out"

    with pytest.raises(KeyboardInterrupt):
        execute(write_run_suite(tmp_path / "suite"), out)

    saved = AuditResult.read(out / RESULTS_FILE)
    assert [(m.model_id, m.status) for m in saved.models] == [("short", "ok")]
    assert len(samples(out)) == 4
