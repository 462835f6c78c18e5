"""The command line: exit codes (0 ok, 2 bad input, 3 a run failed), messages, files written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from auditkit import __version__
from auditkit.cli import app
from auditkit.results import AuditResult
from tests.helpers_suites import (
    MOCK_AND_BROKEN_MODELS,
    SUITE,
    problems_of,
    write_run_suite,
    write_suite,
)

OUTPUTS = [
    "junit.xml",
    "manifest.json",
    "results.json",
    "samples.jsonl",
    "scorecard.html",
    "summary.md",
]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def stderr_of(result: Result) -> str:
    """What went to stderr; older click versions only offer stdout and stderr mixed."""
    try:
        return result.stderr
    except (ValueError, AttributeError):
        return result.output


def assert_clean_exit(result: Result, code: int) -> None:
    """Exited with ``code`` through the CLI's own handling: no exception, no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "Traceback" not in stderr_of(result)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder written by ``auditkit run`` on mock models (copy it before changing it)."""
    folder = tmp_path_factory.mktemp("cli-run")
    out = folder / "out"
    result = invoke("run", write_run_suite(folder / "suite"), "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished_run, tmp_path / "out"))


def test_version() -> None:
    result = invoke("--version")

    assert_clean_exit(result, 0)
    assert result.stdout == f"auditkit {__version__}\n"


def test_validate_ok(tmp_path: Path) -> None:
    path = write_suite(tmp_path)

    result = invoke("validate", path)

    assert_clean_exit(result, 0)
    assert result.stdout == f"{path}: ok (1 models, 1 probes, 1 data files checked)\n"


def test_validate_bad_suite_prints_problem_lines_and_exits_2(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        SUITE.replace("name: demo\n", "name: demo\nmodles: []\n").replace(
            "data: items.jsonl", "data: missing.jsonl"
        ),
    )

    result = invoke("validate", path)

    assert_clean_exit(result, 2)
    assert stderr_of(result).splitlines() == problems_of(path)
    assert stderr_of(result).splitlines() == [
        f"{path}:3:1: modles: unknown field 'modles' (did you mean 'models'?)",
        f"{path}:10:5: probes[0].data: file not found: {tmp_path / 'missing.jsonl'}",
    ]


def test_validate_missing_file(tmp_path: Path) -> None:
    result = invoke("validate", tmp_path / "nope.yaml")

    assert_clean_exit(result, 2)
    assert stderr_of(result) == f"{tmp_path / 'nope.yaml'}: file not found\n"


def test_run_with_mock_models_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = invoke("run", write_run_suite(tmp_path / "suite"), "--out", out)

    assert_clean_exit(result, 0)
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
    assert result.stdout.splitlines()[-1] == f"wrote {out} (scorecard.html, summary.md, junit.xml)"
    assert "error:" not in stderr_of(result)
    saved = AuditResult.read(out / "results.json")
    assert [(m.model_id, m.status) for m in saved.models] == [("short", "ok"), ("long", "ok")]
    assert len((out / "samples.jsonl").read_text("utf-8").splitlines()) == 8


def test_run_with_a_failing_model_exits_3_and_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = invoke(
        "run", write_run_suite(tmp_path / "suite", MOCK_AND_BROKEN_MODELS), "--out", out
    )

    assert_clean_exit(result, 3)
    saved = AuditResult.read(out / "results.json")
    assert [(m.model_id, m.status) for m in saved.models] == [
        ("short", "ok"),
        ("broken", "error"),
        ("long", "ok"),
    ]
    error = saved.models[1].error
    assert error is not None
    assert f"error: broken × load: ModelLoadError: {error.message}\n" in stderr_of(result)
    assert sorted(p.name for p in out.iterdir()) == sorted([*OUTPUTS, "errors.log"])


def test_run_bad_suite_exits_2_before_writing(tmp_path: Path) -> None:
    path = write_suite(tmp_path, SUITE.replace("mock:shortest", "hugging:gpt2"))

    result = invoke("run", path, "--out", tmp_path / "out")

    assert_clean_exit(result, 2)
    assert stderr_of(result).splitlines() == problems_of(path)
    assert not (tmp_path / "out").exists()


def test_run_rejects_an_unknown_device(tmp_path: Path) -> None:
    result = invoke("run", write_run_suite(tmp_path), "--device", "gpu", "--out", tmp_path / "out")

    assert_clean_exit(result, 2)
    assert stderr_of(result) == "--device: expected auto, cpu, cuda or cuda:N, got 'gpu'\n"
    assert not (tmp_path / "out").exists()


def test_run_writes_to_the_report_dir_of_the_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_path = write_suite(
        tmp_path / "project",
        SUITE + "report:\n  dir: audit-out\n  formats: [markdown]\n",
    )
    monkeypatch.chdir(tmp_path)

    result = invoke("run", "project/suite.yaml")

    assert_clean_exit(result, 0)
    out = suite_path.parent / "audit-out"
    assert sorted(p.name for p in out.iterdir()) == [
        "junit.xml",
        "manifest.json",
        "results.json",
        "samples.jsonl",
        "summary.md",
    ]


def test_run_defaults_to_reports_name_under_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite_path = write_suite(tmp_path / "project")
    monkeypatch.chdir(tmp_path)

    result = invoke("run", suite_path)

    assert_clean_exit(result, 0)
    assert sorted(p.name for p in (tmp_path / "reports" / "demo").iterdir()) == OUTPUTS


def test_report_re_renders_from_results_json(run_copy: Path) -> None:
    (run_copy / "scorecard.html").unlink()
    (run_copy / "summary.md").unlink()

    result = invoke("report", run_copy)

    assert_clean_exit(result, 0)
    written = ", ".join(str(run_copy / n) for n in ("scorecard.html", "summary.md", "junit.xml"))
    assert result.stdout == f"wrote {written}\n"
    for name in ("scorecard.html", "summary.md"):
        text = (run_copy / name).read_text("utf-8")
        assert all(word in text for word in ("run-demo", "short", "long")), name


def test_report_with_one_format(run_copy: Path) -> None:
    (run_copy / "scorecard.html").unlink()
    (run_copy / "summary.md").unlink()

    result = invoke("report", run_copy, "--formats", "markdown")

    assert_clean_exit(result, 0)
    assert (run_copy / "summary.md").is_file()
    assert not (run_copy / "scorecard.html").exists()


def test_report_rejects_an_unknown_format(run_copy: Path) -> None:
    result = invoke("report", run_copy, "--formats", "html,pdf")

    assert_clean_exit(result, 2)
    assert stderr_of(result) == "--formats: unknown format pdf; use html, markdown, junit\n"


def test_report_without_results_json_exits_2(tmp_path: Path) -> None:
    result = invoke("report", tmp_path)

    assert_clean_exit(result, 2)
    assert stderr_of(result) == (
        f"{tmp_path / 'results.json'}: file not found (run 'auditkit run' first)\n"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "json_invalid"),
        ('{"schema_version": 1}', "auditkit_version: Field required"),
        ("[1, 2, 3]", "Input should be an object"),
    ],
)
def test_report_on_a_corrupted_results_json_exits_2(
    run_copy: Path, content: str, problem: str
) -> None:
    path = run_copy / "results.json"
    path.write_text(content, encoding="utf-8")

    result = invoke("report", run_copy)

    assert_clean_exit(result, 2)
    [line] = stderr_of(result).splitlines()
    assert line.startswith(f"{path}: not an auditkit results file: ")
    if problem == "json_invalid":
        assert "Invalid JSON" in line
    else:
        assert line.endswith(problem)


def test_schema_prints_the_suite_json_schema() -> None:
    result = invoke("schema")

    assert_clean_exit(result, 0)
    schema = json.loads(result.stdout)
    assert schema["title"] == "auditkit suite"
    kinds = schema["properties"]["probes"]["items"]["discriminator"]["mapping"]
    assert {"lm_eval", "multiple_choice"} <= set(kinds)


@pytest.mark.parametrize(
    ("models", "code", "stderr_has"),
    [
        ("  - id: a\n    source: hugging:gpt2\n", 2, "models[0].source: unknown model source"),
        (MOCK_AND_BROKEN_MODELS, 3, "error: broken × load: ModelLoadError: "),
    ],
    ids=["bad-suite", "failing-model"],
)
def test_real_process_exit_codes_without_tracebacks(
    tmp_path: Path, models: str, code: int, stderr_has: str
) -> None:
    suite_path = write_run_suite(tmp_path / "suite", models)

    done = subprocess.run(
        [sys.executable, "-m", "auditkit", "run", str(suite_path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == code, done.stderr
    assert stderr_has in done.stderr
    assert "Traceback" not in done.stderr


def test_run_rejects_a_device_the_suite_would_reject(tmp_path: Path) -> None:
    result = invoke("run", write_run_suite(tmp_path), "--device", "cuda-x", "--out", tmp_path / "o")

    assert_clean_exit(result, 2)
    assert stderr_of(result) == "--device: expected auto, cpu, cuda or cuda:N, got 'cuda-x'\n"


def test_report_on_a_results_json_that_is_not_text_exits_2(run_copy: Path) -> None:
    path = run_copy / "results.json"
    path.write_bytes(b"\xff\xfe{")

    result = invoke("report", run_copy)

    assert_clean_exit(result, 2)
    assert stderr_of(result).startswith(f"{path}: cannot read: ")
