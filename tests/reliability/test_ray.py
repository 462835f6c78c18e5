"""``executor: ray`` on a local Ray instance (CPUs only) gives the local executor's results."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditkit.executors.local import ProcessExecutor
from auditkit.executors.ray import RayExecutor
from auditkit.progress import LogProgress
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from tests.helpers_suites import write_run_suite
from tests.reliability.helpers import REPO, comparable

ray = pytest.importorskip("ray")

MODELS = """\
  - id: short
    source: mock:shortest
  - id: long
    source: mock:longest
  - id: echo
    source: mock:echo
"""


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},
    )
    yield
    ray.shutdown()


def test_ray_results_equal_the_local_executors(local_ray: None, tmp_path: Path) -> None:
    path = write_run_suite(tmp_path / "suite", MODELS)
    path.write_text(path.read_text("utf-8") + "executor: ray\n", "utf-8")
    suite = load_suite(path)
    log = io.StringIO()

    executor = RayExecutor(suite)
    on_ray = AuditRun(suite, tmp_path / "ray", LogProgress(stream=log), executor=executor).execute()
    executor.close()  # leaves the caller's Ray session open
    local = AuditRun(
        suite,
        tmp_path / "local",
        LogProgress(stream=io.StringIO()),
        executor=ProcessExecutor(suite),
    ).execute()

    assert ray.is_initialized()
    assert [m.status for m in on_ray.models] == ["ok", "ok", "ok"]
    saved = [
        json.loads((tmp_path / d / "results.json").read_text("utf-8")) for d in ("ray", "local")
    ]
    assert comparable(saved[0]) == comparable(saved[1])
    assert (tmp_path / "ray" / "samples.jsonl").read_bytes() == (
        tmp_path / "local" / "samples.jsonl"
    ).read_bytes()
    assert comparable(on_ray.model_dump(mode="json")) == comparable(local.model_dump(mode="json"))
    assert "loading echo (mock:echo)" in log.getvalue()


def test_a_crashing_model_on_ray_is_an_error_row(local_ray: None, tmp_path: Path) -> None:
    import tests.reliability.plugin_probes  # noqa: F401  (registers test_counted here too)
    from auditkit.suite import suite_model
    from tests.reliability.helpers import write_counted_suite

    suite_model.cache_clear()
    try:
        path = write_counted_suite(
            tmp_path / "suite",
            {"a": "mock:shortest", "boom": "mock:echo"},
            crash={"boom": "segv"},
            extra="executor: ray\n",
        )
        suite = load_suite(path)
        executor = RayExecutor(suite)
        result = AuditRun(
            suite, tmp_path / "out", LogProgress(stream=io.StringIO()), executor=executor
        ).execute()
    finally:
        from auditkit.probes.base import PROBES

        PROBES.pop("test_counted", None)
        suite_model.cache_clear()

    a, boom = result.models
    assert [(p.probe_id, p.status) for p in a.probes] == [("counted", "ok"), ("mc", "ok")]
    assert [(p.probe_id, p.status) for p in boom.probes] == [("counted", "error"), ("mc", "ok")]
    assert boom.probes[0].error is not None
    assert boom.probes[0].error.type == "WorkerDied"
    assert boom.probes[0].error.message.startswith("the Ray task failed: ")
