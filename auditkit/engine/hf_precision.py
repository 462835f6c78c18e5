"""Numerics that keep a low-precision variant's scores a property of the variant, not its batch.

- ``float32_head``: the language-model head of a bfloat16 or float16 model computes its logits in
  float32 (from the model's own hidden states and weights, upcast exactly), so log-probabilities
  are normalised from logits that were never rounded to 8 or 11 bits. In bfloat16 a logit of 16
  is stored to the nearest 0.0625; that rounding alone moved per-choice log-likelihoods by tenths
  of a nat between batch compositions.
- ``reference_weights``: runs a block on the float32 reference of the same weights (every
  bfloat16 / float16 parameter and buffer upcast to float32; int8 layers with de-quantized
  weights and unquantized activations), then restores the model bit for bit. The shared-context
  self-check runs inside it: whether an architecture honours a tree-shaped mask does not depend
  on the dtype or the quantization, and in float32 a real mismatch (≫ 1e-3 nats) cannot hide in
  rounding noise. (int8 rounding is discontinuous: a 1e-7 change in an activation can move it
  to the next int8 level, so packed and plain int8 scores differ by more than float32's.)
- ``float64_attention``: for int8 models, attention runs in float64 and is rounded back to the
  model's dtype. int8 rounding is discontinuous, so float32 attention's summation-order noise
  (it depends on how wide the padded or packed rows are, ~1e-7 relative) moved whole int8 levels
  and so SmolLM2's per-token int8 scores by up to 0.7 nats between 64 rows and 1 row per forward
  pass (60 questions). In float64 that noise is ~1e-16 and vanishes when rounded to float32; the
  int8 products themselves are exact integers, so the scores become identical bit for bit.
- ``LOW_PRECISION_TOLERANCE``: how far a bfloat16 or float16 score may move with its batch
  composition; see its docstring for the derivation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

LOW_PRECISION = (torch.bfloat16, torch.float16)

LOW_PRECISION_TOLERANCE = 0.02
"""Nats per continuation token by which a bfloat16 / float16 score may differ between two batch
compositions (alone, or beside other rows and padding).

Derivation. With the head in float32, what still differs between batch compositions is the order
in which the body's matrix products and attention sums round (kernels block and reduce
differently for other shapes). bfloat16 keeps 8 significant bits, a unit roundoff of
u = 2**-8 ≈ 0.0039; a hidden state that is a sum of rounded terms ends within about u of its
magnitude either way, and the final norm rescales it to unit size, so a logit l = h·w moves by
about u·|l|. Log-probability differences come from differences between logits of ~5–20 in these
models, so one token's log-probability can move by ~0.02–0.08 in the worst case and by ~u (0.004)
typically. Measured on SmolLM2-135M (200 questions, 802 choices of 1–12 tokens, 64 rows vs 1 row
per forward pass): largest change 0.0097 nats per token, mean 0.0008. The tolerance, 0.02 per
token, is twice the largest measured change and below the worst-case bound; float16, with 11
significant bits, moves less. float32 and per-token int8 scores are held to 1e-4 nats per
request instead.
"""


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
