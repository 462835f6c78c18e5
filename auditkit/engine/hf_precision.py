"""Numerics that make a variant's scores a property of the variant, not of its batch.

A request's score used to move with the requests beside it. Measured on SmolLM2-135M, 200
built-in questions, 64 rows vs 1 row per forward pass, on a 2-core AVX2 CPU: torch.ao's int8
(one activation scale per tensor) up to 23.2 nats per choice and 39.0% vs 43.5% accuracy;
per-token int8 up to 0.71 nats (60 questions); bfloat16 up to 0.52 nats per token (mean 0.020,
one answer of 200 flipped); float32 up to 2.8e-5 nats. The fixes:

- ``float64_attention``: attention runs in float64 and its output is rounded back to the model's
  dtype. float32 attention sums in an order that depends on how wide the padded or packed rows
  are (~1e-7 relative); bfloat16 rounding and int8 quantization are discontinuous, so that noise
  moved whole rounding steps and compounded over the layers. In float64 the noise is ~1e-16 and
  vanishes in the rounding, and the other layers compute each token on its own (int8 products
  are exact integers). Same measurement with it: int8 identical bit for bit, bfloat16 within
  7.6e-6 nats, float32 within 1.6e-5 nats (the float32 matrix kernels for one row and for many
  still sum in different orders), and the same accuracy alone and mixed. On a CPU it costs
  nothing measurable at these lengths (float32, 200 questions: 12.4–12.8 s with it, 11.1–13.8 s
  without); it is on for every model on a CPU and for int8 models everywhere. On a GPU, float
  and bfloat16 models keep their native attention kernels (float64 there is slow and
  memory-hungry at long contexts) and their scores move within ``NATIVE_ATTENTION_NOISE``.
- ``float32_head``: the language-model head of a bfloat16 or float16 model computes its logits in
  float32 from the model's own hidden states and weights (upcast exactly), so log-probabilities
  are normalised from logits that were never rounded to 8 or 11 significant bits.
- ``reference_weights``: runs a block on the float32 reference of the same weights (every
  bfloat16 / float16 parameter and buffer upcast to float32; int8 layers with de-quantized
  weights and unquantized activations), then restores the model bit for bit. The shared-context
  self-check runs inside it: whether an architecture honours a tree-shaped mask does not depend
  on the dtype or the quantization, and in float32 a real mismatch (≫ 1e-3 nats) cannot hide in
  rounding noise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

LOW_PRECISION = (torch.bfloat16, torch.float16)

NATIVE_ATTENTION_NOISE = 0.6
"""Nats per continuation token by which a bfloat16 / float16 score can move between batch
compositions when attention runs natively (on a GPU): the largest change measured on SmolLM2
with native attention on a CPU was 0.52 nats per token (p99 0.19, mean 0.020), rounded up. It is
an empirical bound, not a proof: low-precision rounding compounds chaotically over layers. Also
the tolerance of the shared-context self-check when no float32 reference fits in memory."""


def is_low_precision(model: torch.nn.Module) -> bool:
    """Whether most of ``model``'s floating-point parameters are bfloat16 or float16."""
    counts: dict[torch.dtype, int] = {}
    for parameter in model.parameters():
        if parameter.is_floating_point():
            counts[parameter.dtype] = counts.get(parameter.dtype, 0) + parameter.numel()
    return bool(counts) and max(counts, key=lambda d: counts[d]) in LOW_PRECISION


@contextlib.contextmanager
def float32_head(head: Any, enabled: bool) -> Iterator[None]:
    """While active, ``head`` (an ``nn.Linear``-like module with a floating ``weight``) returns
    float32 logits computed from float32 copies of its input and weights."""
    weight = getattr(head, "weight", None)
    if (
        not enabled
        or not isinstance(head, torch.nn.Module)
        or not isinstance(weight, torch.Tensor)
        or weight.dtype not in LOW_PRECISION
    ):
        yield
        return

    def in_float32(module: torch.nn.Module, args: tuple[Any, ...], output: Any) -> torch.Tensor:
        bias = getattr(module, "bias", None)
        return torch.nn.functional.linear(
            args[0].float(), weight.float(), None if bias is None else bias.float()
        )

    handle = head.register_forward_hook(in_float32)
    try:
        yield
    finally:
        handle.remove()


@contextlib.contextmanager
def float64_attention(enabled: bool) -> Iterator[None]:
    """While active, transformers' ``sdpa`` attention (the default) computes in float64 and
    returns the model's dtype. Affects models that use transformers' shared attention registry
    (Llama, Mistral, Qwen, Gemma and most others)."""
    if not enabled:
        yield
        return
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    def in_float64(
        module: torch.nn.Module,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_mask: torch.Tensor | None,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, Any]:
        if attention_mask is not None and attention_mask.is_floating_point():
            attention_mask = attention_mask.double()
        out, weights = sdpa_attention_forward(
            module, query.double(), key.double(), value.double(), attention_mask, **kwargs
        )
        return out.to(query.dtype), weights

    local = ALL_ATTENTION_FUNCTIONS._local_mapping
    previous = local.get("sdpa")
    ALL_ATTENTION_FUNCTIONS["sdpa"] = in_float64
    try:
        yield
    finally:
        if previous is None:
            del ALL_ATTENTION_FUNCTIONS["sdpa"]
        else:
            ALL_ATTENTION_FUNCTIONS["sdpa"] = previous


def has_reference_mode(model: torch.nn.Module) -> bool:
    """Whether ``model`` has layers that compute differently in their float32 reference mode
    (quantized layers with a ``reference`` switch, e.g. ``Int8DynamicLinear``)."""
    return any(hasattr(module, "reference") for module in model.modules())


def has_packed_weights(model: torch.nn.Module) -> bool:
    """Whether ``model`` holds weights in a packed tensor subclass (torchao's quantized tensors):
    they compute only as they are, so there is no float32 reference of them to switch to."""
    return any(type(p.data) is not torch.Tensor for p in model.parameters())


@contextlib.contextmanager
def reference_weights(model: torch.nn.Module) -> Iterator[None]:
    """Run the block on the float32 reference of the same weights, then restore the model
    exactly: every bfloat16 / float16 parameter and buffer is upcast to float32 and cast back to
    its own dtype (both casts are exact), and quantized layers with a ``reference`` switch
    compute with their de-quantized weights and unquantized activations."""
    changed: list[tuple[torch.Tensor, torch.dtype]] = []
    switched = [m for m in model.modules() if hasattr(m, "reference")]
    try:
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.dtype in LOW_PRECISION:
                changed.append((tensor, tensor.dtype))
                tensor.data = tensor.data.float()
        for module in switched:
            setattr(module, "reference", True)  # noqa: B010  (a switch other layers lack)
        yield
    finally:
        for module in switched:
            setattr(module, "reference", False)  # noqa: B010
        for tensor, dtype in changed:
            tensor.data = tensor.data.to(dtype)
