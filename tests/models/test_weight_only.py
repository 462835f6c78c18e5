"""Weight-only quantization with torchao, and the bitsandbytes load options."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from auditkit.errors import ModelLoadError
from auditkit.models import bnb, weight_only
from auditkit.models.bnb import bnb_detail, bnb_load_options, bnb_support
from auditkit.models.weight_only import (
    quantize_weight_only,
    weight_only_detail,
    weight_only_support,
)
from auditkit.results import QuantizationDetail

IN_SCOPE = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

LOGIT_TOLERANCE = {"int8-weight-only": 0.1, "int4-weight-only": 1.5}
"""Largest |Δ logit| allowed against the float32 model on the tiny Llama (its logits span about
±8), about 2.5 times the measured largest over one 10-token prompt: int8 0.032, int4 in groups of
32 0.58 (from bfloat16 weights: 0.065 and 0.55)."""


@pytest.fixture(scope="module")
def tiny_model(tiny_llama_dir: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32).eval()


def _logits(model: Any) -> torch.Tensor:
    ids = torch.tensor([[0, 5, 17, 42, 99, 150, 200, 250, 7, 3]])
    with torch.no_grad():
        logits: torch.Tensor = model(ids).logits
    return logits


def _copy(model: Any) -> Any:
    import copy

    return copy.deepcopy(model)


@pytest.mark.parametrize(
    ("scheme", "group_size", "expected"),
    [
        ("int8-weight-only", None, QuantizationDetail(scheme="", library="torchao", weight_bits=8)),
        (
            "int4-weight-only",
            32,
            QuantizationDetail(scheme="", library="torchao", weight_bits=4, group_size=32),
        ),
    ],
)
def test_every_in_scope_linear_layer_is_quantized_and_the_head_is_not(
    tiny_model: Any, scheme: str, group_size: int | None, expected: QuantizationDetail
) -> None:
    pytest.importorskip("torchao")
    model = _copy(tiny_model)
    head_weight = model.lm_head.weight
    reference = _logits(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a normal run prints no Python warnings
        detail = quantize_weight_only(model, scheme, group_size, "cpu")
        logits = _logits(model)
    assert detail == expected.model_copy(update={"scheme": scheme})
    quantized = {
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and type(module.weight) is not torch.nn.Parameter
    }
    assert quantized == {
        f"model.layers.{i}.{part}.{name}"
        for i in range(2)
        for part, names in (("self_attn", IN_SCOPE[:4]), ("mlp", IN_SCOPE[4:]))
        for name in names
    }
    assert model.lm_head.weight is head_weight and type(head_weight) is torch.nn.Parameter
    assert torch.isfinite(logits).all()
    difference = (logits - reference).abs().max().item()
    assert 0 < difference < LOGIT_TOLERANCE[scheme]


@pytest.mark.parametrize("scheme", ["int8-weight-only", "int4-weight-only"])
def test_bfloat16_weights_are_quantized_too(tiny_model: Any, scheme: str) -> None:
    pytest.importorskip("torchao")
    model = _copy(tiny_model).to(torch.bfloat16)
    reference = _logits(tiny_model)
    assert not weight_only.has_torchao_weights(model)
    quantize_weight_only(model, scheme, 32, "cpu")
    assert weight_only.has_torchao_weights(model)
    logits = _logits(model)
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits).all()
    assert (logits.float() - reference).abs().max().item() < LOGIT_TOLERANCE[scheme]


def test_importing_torchao_through_transformers_prints_nothing() -> None:
    pytest.importorskip("torchao")
    code = (
        "from auditkit.library_logs import quiet_library_logs\n"
        "quiet_library_logs()\n"
        "import transformers.quantizers, torchao.quantization\n"
        "from transformers import AutoModelForCausalLM\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""


def test_int4_default_group_size_must_divide_every_layer(tiny_model: Any) -> None:
    pytest.importorskip("torchao")
    model = _copy(tiny_model)
    # The tiny Llama's layers have 32 or 64 input features: torchao would silently skip them.
    with pytest.raises(
        ModelLoadError, match=r"group size 128: layer 'model\..*q_proj'.*'group_size: 32'"
    ):
        quantize_weight_only(model, "int4-weight-only", None, "cpu")
    assert all(type(p) is torch.nn.Parameter for p in model.parameters())  # left untouched


def test_a_model_not_on_the_device_is_refused(tiny_model: Any) -> None:
    pytest.importorskip("torchao")
    with pytest.raises(ModelLoadError, match="move the model to its device before quantizing"):
        quantize_weight_only(_copy(tiny_model), "int8-weight-only", None, "cuda")


def test_weight_only_detail() -> None:
    assert weight_only_detail("int4-weight-only") == QuantizationDetail(
        scheme="int4-weight-only", library="torchao", weight_bits=4, group_size=128
    )
    assert weight_only_detail("int8-weight-only").activation_bits is None


def test_weight_only_support_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("torchao") is not None:
        assert weight_only_support("int8-weight-only", "cpu") is None
        assert weight_only_support("int4-weight-only", "cpu") is None
        assert weight_only_support("int4-weight-only", "cpu", 64) is None
        assert weight_only_support("int4-weight-only", "cpu", 256) == (
            "'group_size: 256' has no int4 CPU kernel: use 32, 64, 128"
        )
        assert weight_only_support("int4-weight-only", "cuda:1", 256) is None
        assert "no int4 weight-only kernel for device 'mps'" in str(
            weight_only_support("int4-weight-only", "mps")
        )
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torchao" else real_find_spec(name, *a),
    )
    reason = weight_only_support("int4-weight-only", "cpu")
    assert reason is not None and reason.startswith("'int4-weight-only' needs torchao: pip install")


def test_weight_only_support_names_old_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {"torchao": "0.12.0", "torch": "2.13.0+cpu"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(weight_only.importlib.metadata, "version", versions.__getitem__)
    assert "needs torchao 0.18 or newer (found 0.12.0)" in str(
        weight_only_support("int8-weight-only", "cpu")
    )
    versions.update(torchao="0.18.0", torch="2.5.1")
    assert weight_only_support("int8-weight-only", "cpu") is None
    assert "no int4 CPU kernel in torch 2.5.1" in str(
        weight_only_support("int4-weight-only", "cpu")
    )


def test_bnb_support() -> None:
    assert bnb_support("cpu", "bnb-nf4") == (
        "'bnb-nf4' needs a CUDA GPU (device is 'cpu'): use 'int8-weight-only' or none"
    )
    assert "needs a CUDA GPU" in str(bnb_support("mps"))
    expected = (
        None
        if importlib.util.find_spec("bitsandbytes")
        else ("'bnb-int8' needs bitsandbytes: pip install bitsandbytes")
    )
    assert bnb_support("cuda:0", "bnb-int8") == expected


def test_bnb_load_options_build_the_config_without_importing_bitsandbytes() -> None:
    import sys

    had_bnb = "bitsandbytes" in sys.modules
    int8 = bnb_load_options("bnb-int8")
    assert set(int8) == {"quantization_config"}
    assert int8["quantization_config"].load_in_8bit
    assert not int8["quantization_config"].load_in_4bit
    nf4 = bnb_load_options("bnb-nf4", "cuda:0")
    config = nf4["quantization_config"]
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert nf4["device_map"] == {"": "cuda:0"}
    assert ("bitsandbytes" in sys.modules) == had_bnb
    with pytest.raises(ValueError, match="unknown bitsandbytes scheme"):
        bnb_load_options("bnb-int4")


def test_bnb_detail() -> None:
    assert bnb_detail("bnb-int8") == QuantizationDetail(
        scheme="bnb-int8", library="bitsandbytes", weight_bits=8, activation_bits=8
    )
    assert bnb_detail("bnb-nf4") == QuantizationDetail(
        scheme="bnb-nf4", library="bitsandbytes", weight_bits=4, group_size=bnb.NF4_BLOCK_SIZE
    )
