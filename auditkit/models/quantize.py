"""int8 dynamic quantization with one activation scale per token: scores that do not depend on
the batch.

Scheme (the one torchao calls int8 dynamic-activation int8-weight): every linear layer's weight is
quantized once, symmetrically per output channel, ``q(W)[o] = round(W[o] / s_w[o])`` with
``s_w[o] = max|W[o]| / 127``; at every forward pass each token's activation vector ``x_t`` is
quantized with its own scale ``s_t = max|x_t| / 127``; the layer returns

    y_t = (q(x_t) · q(W)ᵀ) ⊙ s_t s_w + b

Because every scale belongs to one token, a token's output never depends on the other tokens,
rows or padding in its batch. torch.ao's dynamic quantization takes one activation scale for the
whole input tensor, so one request's score moved with its neighbours' (measured on SmolLM2-135M:
per-choice log-likelihoods up to 23.2 nats apart between 64 rows and 1 row per forward pass).

The integer product runs as ``torch._int_mm`` on CUDA. On a CPU that kernel is ~60× slower than a
float32 matrix product (measured on a 2-core AVX2 machine), so there the same integers are
multiplied as float32: each product of two int8 values is exact, and so is every partial sum
below 2**24 (always true for inner dimensions up to 1040; beyond, a partial sum can round by one
part in 2**24). The CPU path therefore computes the int8 model's numbers at float32 speed, but
its latency is not that of an int8 kernel.
"""

from __future__ import annotations

import torch
from torch import nn

QMAX = 127
SCHEME = "int8 weights per output channel, int8 activations per token, symmetric"


def quantize_rows(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 quantization of each row of ``values`` (last dimension): the int8 values
    and one float32 scale per row (a row of zeros gets scale 1, so it stays zero)."""
    values = values.float()
    scale = values.abs().amax(dim=-1, keepdim=True) / QMAX
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    quantized = torch.clamp(torch.round(values / scale), -QMAX, QMAX).to(torch.int8)
    return quantized, scale


class Int8DynamicLinear(nn.Module):
    """A linear layer with int8 weights (per output channel) and int8 activations (per token)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.in_features = linear.in_features
        self.out_features = linear.out_features
        weight, scale = quantize_rows(linear.weight.detach())
        # A frozen parameter, so that parameter counts and footprints see the int8 weights.
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.weight_scale: torch.Tensor
        self.register_buffer("weight_scale", scale.reshape(1, -1))
        bias = linear.bias
        self.bias = None if bias is None else nn.Parameter(bias.detach().float(), False)

    reference = False
    """While true, the layer computes in float32 with the de-quantized weights and unquantized
    activations: the float32 reference of the same weights (``hf_precision.reference_weights``
    sets it for the shared-context self-check)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        flat = x.reshape(-1, shape[-1])
        if self.reference:
            weight = self.weight.float() * self.weight_scale.reshape(-1, 1)
            out = torch.nn.functional.linear(flat.float(), weight, self.bias)
            return out.to(x.dtype).reshape(*shape[:-1], self.out_features)
        quantized, token_scale = quantize_rows(flat)
        if flat.is_cuda and flat.shape[0] > 16:
            # torch._int_mm needs more than 16 rows; int32 accumulation is exact.
            product = torch._int_mm(quantized, self.weight.t()).float()
        else:
            product = quantized.float() @ self.weight.t().float()
        out = product * token_scale * self.weight_scale
        if self.bias is not None:
            out = out + self.bias
        return out.to(x.dtype).reshape(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, {SCHEME}"


def quantize_int8_dynamic(model: nn.Module) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` (the output head included) in place with an
    ``Int8DynamicLinear``; returns the model. Tied weights stay with their other users."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            setattr(model, name, Int8DynamicLinear(child))
        else:
            quantize_int8_dynamic(child)
    return model
