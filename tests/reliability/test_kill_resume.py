"""Kill a real ``auditkit run`` midway with SIGKILL, rerun it, and check that nothing finished
was computed again and that the results equal an uninterrupted run's (apart from timings)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from auditkit.cache import CACHE_DIR_NAME, ResultCache
from tests.reliability.helpers import (
    PLUGIN,
    REPO,
    auditkit_command,
    cli_env,
    comparable,
    read_results,
    run_cli,
    runs_logged,
    write_counted_suite,
)

MODELS = {"m1": "mock:shortest", "m2": "mock:longest", "m3": "mock:echo", "m4": "mock:abstain"}
pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str]) -> None:
    """Poll ``condition`` (a file-system state the run reaches), bounded; fail if the run ends."""
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            output = process.communicate()[0]
            pytest.fail(f"the run ended (code {process.returncode}) before {what}:\n{output}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def cached_results(cache_dir: Path) -> int:
    if not (cache_dir / "cache.sqlite3").exists():
        return 0
    with ResultCache(cache_dir) as cache:
        return cache.stats().probe_results


def test_a_killed_run_resumes_without_recomputing(tmp_path: Path) -> None:
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "m3").touch()  # the counted probe waits on m3 until this file goes
    suite = write_counted_suite(tmp_path / "suite", MODELS, hold=hold)
    cache_dir = tmp_path / CACHE_DIR_NAME
    out = tmp_path / "resumed"
    env = cli_env(PLUGIN)
    command = auditkit_command("run", suite, "--out", out, "--cache-dir", cache_dir)

    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        # m1 and m2 finished (2 probes each) and m3 is inside its first probe.
        wait_for(lambda: "m3" in runs_logged(suite.parent), "m3 started", process)
        wait_for(lambda: cached_results(cache_dir) == 4, "4 cached results", process)
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        # The orphaned worker notices its parent died and ends too.
        wait_for_exit = time.monotonic() + 60
        while live_members(process.pid) and time.monotonic() < wait_for_exit:
            time.sleep(0.05)
        assert live_members(process.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert runs_logged(suite.parent) == ["m1", "m2", "m3"]
    assert cached_results(cache_dir) == 4
    assert not (out / "manifest.json").exists()  # the run really was cut short

    (hold / "m3").unlink()
    resumed = run_cli("run", suite, "--out", out, "--cache-dir", cache_dir, env=env)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    new_runs = runs_logged(suite.parent)[3:]
    recomputed = [model for model in new_runs if model in ("m1", "m2")]
    assert recomputed == []
    assert new_runs == ["m3", "m4"]
    assert "m1: every probe cached, model not loaded" in resumed.stdout
    assert "loading m1" not in resumed.stdout
    saved = read_results(out)
    cached = {
        (m["model_id"], p["probe_id"]): p["cached"] for m in saved["models"] for p in m["probes"]
    }
    assert cached == {
        (model, probe): model in ("m1", "m2") for model in MODELS for probe in ("counted", "mc")
    }
    assert cached_results(cache_dir) == 8

    fresh_out = tmp_path / "uninterrupted"
    fresh = run_cli("run", suite, "--out", fresh_out, "--no-cache", env=env)

    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert comparable(read_results(out)) == comparable(read_results(fresh_out))
    assert (out / "samples.jsonl").read_bytes() == (fresh_out / "samples.jsonl").read_bytes()
    assert not (tmp_path / "uninterrupted" / CACHE_DIR_NAME).exists()
