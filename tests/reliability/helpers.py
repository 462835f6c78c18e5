"""Shared helpers of the reliability tests: suites with the plugin probe, real CLI processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers_suites import ITEMS, write_jsonl

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "tests.reliability.plugin_probes"
CRASH_ON_LOAD = "tests.reliability.crash_on_load"
VOLATILE = frozenset({"seconds", "load_seconds", "cached"})
"""Fields a resumed or repeated run may change: timings, and whether a result was cached."""


def comparable(value: Any) -> Any:
    """Parsed ``results.json`` without the volatile fields, at any depth."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def read_results(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "results.json").read_text("utf-8"))
    return data


def models_block(models: dict[str, str]) -> str:
    return "".join(f"  - id: {model_id}\n    source: {src}\n" for model_id, src in models.items())


def write_counted_suite(
    folder: Path,
    models: dict[str, str],
    *,
    hold: Path | None = None,
    crash: dict[str, str] | None = None,
    extra: str = "",
) -> Path:
    """A suite of ``models`` × (``counted`` plugin probe, multiple choice) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "items.jsonl", ITEMS)
    counted = {"id": "counted", "kind": "test_counted", "log": str(folder / "runs.log")}
    if hold is not None:
        counted["hold"] = str(hold)
    if crash:
        counted["crash"] = crash  # type: ignore[assignment]
    text = (
        "schema_version: 1\n"
        "name: reliability\n"
        "seed: 11\n"
        "device: cpu\n"
        f"{extra}"
        "models:\n"
        f"{models_block(models)}"
        "probes:\n"
        f"  - {json.dumps(counted)}\n"
        "  - {id: mc, kind: multiple_choice, data: items.jsonl}\n"
    )
    path = folder / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def runs_logged(folder: Path) -> list[str]:
    """Model ids, one per run of the ``counted`` probe, in order."""
    log = folder / "runs.log"
    return log.read_text("utf-8").splitlines() if log.exists() else []


def cli_env(*plugins: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["AUDITKIT_PLUGINS"] = ",".join(plugins)
    env.update(extra)
    return env


def auditkit_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "auditkit", *(str(a) for a in args)]


def run_cli(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        auditkit_command(*args),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
