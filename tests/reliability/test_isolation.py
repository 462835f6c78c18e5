"""Process isolation: a crash, an out-of-memory kill or an exception in one candidate is an error
row for that candidate (exit code 3), and every other model and probe still finishes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from auditkit.executors import Sink, executor_for
from auditkit.executors.local import InProcessExecutor, ProcessExecutor, describe_exit
from auditkit.progress import LogProgress
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from auditkit.worker import Done, ModelWork, ProbeStarted, WorkerDied, run_model
from tests.helpers_suites import MOCK_MODELS, write_run_suite
from tests.reliability.helpers import (
    CRASH_ON_LOAD,
    PLUGIN,
    cli_env,
    comparable,
    read_results,
    run_cli,
    runs_logged,
    write_counted_suite,
)


def test_crashes_in_workers_become_error_rows_and_the_rest_finishes(tmp_path: Path) -> None:
    models = {
        "a": "mock:shortest",
        "segfault": "mock:echo",
        "oom-killed": "mock:longest",
        "raises": "mock:abstain",
        "load-crash": "mock:shortest",
        "b": "mock:longest",
    }
    crash = {"segfault": "segv", "oom-killed": "kill", "raises": "raise"}
    suite = write_counted_suite(tmp_path / "suite", models, crash=crash)
    env = cli_env(PLUGIN, CRASH_ON_LOAD, AUDITKIT_TEST_CRASH_LOAD="load-crash:segv")
    out = tmp_path / "out"

    done = run_cli("run", suite, "--out", out, "--no-cache", env=env)

    assert done.returncode == 3, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    saved = read_results(out)
    rows = {
        m["model_id"]: (m["status"], [(p["probe_id"], p["status"]) for p in m["probes"]])
        for m in saved["models"]
    }
    assert list(rows) == list(models)  # suite order, whatever order the work finished in
    ok_both = ("ok", [("counted", "ok"), ("mc", "ok")])
    counted_failed = ("ok", [("counted", "error"), ("mc", "ok")])
    assert rows == {
        "a": ok_both,
        "segfault": counted_failed,  # mc ran in a fresh worker after the crash
        "oom-killed": counted_failed,
        "raises": counted_failed,  # an exception needs no new worker
        "load-crash": ("error", []),
        "b": ok_both,
    }
    errors = {(m, p): e for m, p, e in _errors(saved)}
    assert errors[("segfault", "counted")]["type"] == "WorkerDied"
    assert "SIGSEGV" in errors[("segfault", "counted")]["message"]
    assert "SIGKILL" in errors[("oom-killed", "counted")]["message"]
    assert errors[("raises", "counted")] == {
        "type": "RuntimeError",
        "message": "counted probe failed on purpose",
        "stage": "probe",
    }
    assert errors[("load-crash", None)]["stage"] == "load"
    assert "SIGSEGV" in errors[("load-crash", None)]["message"]
    assert "error: segfault × counted: WorkerDied: the worker process was killed by SIGSEGV" in (
        done.stderr
    )
    log = (out / "errors.log").read_text("utf-8")
    assert "== raises × counted\nTraceback (most recent call last):" in log
    assert "== load-crash (load)\nthe worker process was killed by SIGSEGV" in log
    assert "[2/6] reloading segfault (mock:echo)" in done.stdout
    # Each probe ran once per model: crashed probes are not retried.
    assert sorted(runs_logged(suite.parent)) == sorted(set(models) - {"load-crash"})


def _errors(saved: dict[str, object]) -> list[tuple[str, str | None, dict[str, str]]]:
    found = []
    for model in saved["models"]:  # type: ignore[attr-defined]
        if model["error"]:
            found.append((model["model_id"], None, model["error"]))
        found += [
            (model["model_id"], p["probe_id"], p["error"]) for p in model["probes"] if p["error"]
        ]
    return found


def test_process_isolation_gives_the_in_process_results(tmp_path: Path) -> None:
    suite = load_suite(write_run_suite(tmp_path / "suite", MOCK_MODELS))

    isolated = AuditRun(
        suite,
        tmp_path / "isolated",
        LogProgress(stream=io.StringIO()),
        executor=ProcessExecutor(suite),
    ).execute()
    in_process = AuditRun(suite, tmp_path / "direct", LogProgress(stream=io.StringIO())).execute()

    assert comparable(isolated.model_dump(mode="json")) == comparable(
        in_process.model_dump(mode="json")
    )
    assert (tmp_path / "isolated" / "samples.jsonl").read_bytes() == (
        tmp_path / "direct" / "samples.jsonl"
    ).read_bytes()


def test_the_suite_chooses_the_executor(tmp_path: Path) -> None:
    path = write_run_suite(tmp_path / "default")
    assert isinstance(executor_for(load_suite(path)), ProcessExecutor)
    text = path.read_text("utf-8").replace("device: cpu\n", "device: cpu\nisolation: none\n")
    path.write_text(text, "utf-8")
    assert isinstance(executor_for(load_suite(path)), InProcessExecutor)


class ScriptedExecutor:
    """Runs models in this process but kills the 'worker' at chosen probes (no real process)."""

    def __init__(self, suite: object, die_at: dict[str, str]) -> None:
        self.inner = InProcessExecutor(suite)  # type: ignore[arg-type]
        self.die_at = die_at
        self.works: list[ModelWork] = []

    def run(self, works: Sequence[ModelWork], sink: Sink) -> None:
        for work in works:
            self.works.append(work)

            class Died(Exception):
                pass

            def emit(message: object, model_id: str = work.model_id) -> None:
                sink(model_id, message)  # type: ignore[arg-type]
                probe = self.die_at.get(model_id)
                if (
                    isinstance(message, ProbeStarted)
                    and self.inner.suite.probes[message.index].id == probe
                ):
                    raise Died

            try:
                run_model(self.inner.suite, work, emit, device="cpu")  # type: ignore[arg-type]
                sink(work.model_id, Done())
            except Died:
                sink(work.model_id, WorkerDied("scripted death"))

    def close(self) -> None:
        pass


def test_a_dead_worker_costs_its_probe_only_and_a_fresh_worker_runs_the_rest(
    tmp_path: Path,
) -> None:
    path = write_run_suite(tmp_path / "suite", MOCK_MODELS)
    text = (
        path.read_text("utf-8") + "  - id: mc2\n    kind: multiple_choice\n    data: items.jsonl\n"
    )
    path.write_text(text, "utf-8")
    suite = load_suite(path)
    executor = ScriptedExecutor(suite, {"short": "mc"})

    result = AuditRun(
        suite, tmp_path / "out", LogProgress(stream=io.StringIO()), executor=executor
    ).execute()

    short = result.models[0]
    assert [(p.probe_id, p.status) for p in short.probes] == [("mc", "error"), ("mc2", "ok")]
    assert short.probes[0].error is not None
    assert short.probes[0].error.message == "scripted death"
    assert [(w.model_id, w.probe_indexes) for w in executor.works] == [
        ("short", (0, 1)),
        ("long", (0, 1)),
        ("short", (1,)),
    ]


def test_exit_descriptions() -> None:
    assert describe_exit(-9).startswith("the worker process was killed by SIGKILL (out of memory?")
    assert describe_exit(-11) == (
        "the worker process was killed by SIGSEGV (a segmentation fault in native code)"
    )
    assert describe_exit(1) == "the worker process exited with code 1 before finishing"
