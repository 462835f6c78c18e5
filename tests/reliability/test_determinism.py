"""Same suite, same seed, same machine → the same results.json apart from timings, with every
model in its own worker process; and ``device_map: auto`` loads (on the CPU here)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from auditkit.engine import LoglikelihoodRequest
from auditkit.executors.local import ProcessExecutor
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec
from auditkit.progress import LogProgress
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from tests.helpers_suites import ITEMS, write_jsonl
from tests.reliability.helpers import comparable


def tiny_suite(folder: Path, model_dir: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_jsonl(folder / "items.jsonl", ITEMS)
    path = folder / "suite.yaml"
    path.write_text(
        "schema_version: 1\nname: determinism\nseed: 5\ndevice: cpu\n"
        f"models:\n  - id: tiny\n    source: hf:{model_dir}\n"
        "probes:\n  - id: mc\n    kind: multiple_choice\n    data: items.jsonl\n",
        encoding="utf-8",
    )
    return path


def test_two_isolated_runs_of_a_real_model_are_identical(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    suite = load_suite(tiny_suite(tmp_path / "suite", tiny_llama_dir))
    outs = [tmp_path / "first", tmp_path / "second"]

    results = [
        AuditRun(
            suite, out, LogProgress(stream=io.StringIO()), executor=ProcessExecutor(suite)
        ).execute()
        for out in outs
    ]

    assert [m.status for m in results[0].models] == ["ok"]
    assert results[0].seed == 5
    saved = [json.loads((out / "results.json").read_text("utf-8")) for out in outs]
    assert comparable(saved[0]) == comparable(saved[1])
    assert (outs[0] / "samples.jsonl").read_bytes() == (outs[1] / "samples.jsonl").read_bytes()
    infos = [m.info for m in results[0].models]
    assert [(i.dtype, i.device) for i in infos if i] == [("float32", "cpu")]


def test_device_map_auto_places_the_model_and_records_where(tiny_llama_dir: Path) -> None:
    spec = ModelSpec.model_validate(
        {"id": "m", "source": f"hf:{tiny_llama_dir}", "device_map": "auto"},
        context={"base_dir": tiny_llama_dir.parent},
    )

    loaded = load_model(spec, "cpu")

    # accelerate places the model on the GPUs when there are any, else on the CPU.
    assert loaded.info.device == ("auto: cuda:0" if torch.cuda.is_available() else "auto: cpu")
    reference = load_model(spec.model_copy(update={"device_map": None}), "cpu")
    request = [LoglikelihoodRequest("the cat is", " a dog")]
    [sharded], [plain] = (
        loaded.engine.loglikelihood(request),
        reference.engine.loglikelihood(request),
    )
    assert sharded.logprob == pytest.approx(plain.logprob, rel=1e-4)
    assert (sharded.is_greedy, sharded.n_tokens) == (plain.is_greedy, plain.n_tokens)
