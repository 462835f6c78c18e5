"""Pruning at load: weights set to zero in place, before any quantization.

What is pruned (scope ``linear``): the ``weight`` of every ``torch.nn.Linear`` module of the model,
except the output head (the module ``model.get_output_embeddings()`` returns) and any linear layer
whose weight tensor is the input embeddings' weight or the head's (tied weights). A weight shared
by several linear modules is pruned and counted once. Biases, embeddings, norms and layers of other
types (e.g. GPT-2's ``Conv1D``) are never touched.

Methods:

- ``magnitude``: in each layer, the ``round(sparsity × numel)`` weights of smallest ``|w|`` become
  zero (unstructured; every layer gets the same share). Ties at the threshold are broken by
  position: the first in row-major order are zeroed, so exactly that many weights are chosen and
  the result does not depend on the device or the sort algorithm.
- ``2:4``: in every group of four consecutive weights along a row (the input dimension), the two
  of smallest ``|w|`` become zero (ties again go to the earlier position). A layer whose
  ``in_features`` is not a multiple of 4 cannot hold the pattern: it is left unpruned and not
  counted in ``layers``, but its weights stay in scope for the measured sparsity.

How sparsity is measured: after pruning, the weights in scope that are exactly zero (zeros that
were there before count too), divided by the number of weights in scope.

Why no speed-up is claimed: the zeros are written into the ordinary dense weight tensors, which
stay plain ``torch.nn.Parameter`` objects (no ``torch.nn.utils.prune`` masks are left behind), so
the model saves, quantizes and exports like any other. auditkit does not convert the weights to a
sparse format or call sparse kernels, so every matrix product still multiplies the zeros: the
pruned model has the dense model's latency and memory on every device. Only the scores change.
"""

from __future__ import annotations

import torch
from torch import nn

from auditkit.models.spec import PruningSpec
from auditkit.results import PruningDetail

NO_LINEAR_LAYERS = "pruning: the model has no linear layers to prune"


def prune(model: nn.Module, spec: PruningSpec) -> PruningDetail:
    """Prune ``model`` in place as ``spec`` says and report what was achieved.

    Raises ``ValueError`` when the model has no linear layer in scope. Layers whose
    ``in_features`` is not a multiple of 4 are left unpruned by ``2:4`` (see the module text).
    """
    weights = linear_weights(model)
    if not weights:
        raise ValueError(NO_LINEAR_LAYERS)
    pruned = 0
    with torch.no_grad():
        for weight in weights:
            if spec.method == "2:4":
                pruned += prune_two_four(weight)
            else:
                prune_magnitude(weight, spec.sparsity)
                pruned += 1
    target = 0.5 if spec.method == "2:4" else spec.sparsity
    return PruningDetail(
        method=spec.method,
        target_sparsity=target,
        achieved_sparsity=sparsity(weights),
        layers=pruned,
    )


def linear_weights(model: nn.Module) -> list[torch.Tensor]:
    """The weights in scope ``linear``: every ``nn.Linear`` weight except the output head's and
    any tied to the input embeddings or the head, each shared tensor once, in module order."""
    head = _call(model, "get_output_embeddings")
    excluded = {id(_weight_of(module)) for module in (head, _call(model, "get_input_embeddings"))}
    seen: set[int] = set()
    weights: list[torch.Tensor] = []
    for module in model.modules():
        if not isinstance(module, nn.Linear) or module is head:
            continue
        weight = module.weight
        if id(weight) in excluded or id(weight) in seen:
            continue
        seen.add(id(weight))
        weights.append(weight)
    return weights


def _call(model: nn.Module, method: str) -> nn.Module | None:
    """``model.method()`` for a transformers accessor, or ``None`` when there is none."""
    getter = getattr(model, method, None)
    if getter is None:
        return None
    try:
        found = getter()
    except (NotImplementedError, AttributeError):
        return None
    return found if isinstance(found, nn.Module) else None


def _weight_of(module: nn.Module | None) -> object:
    return getattr(module, "weight", None) if module is not None else None


def _scores(weight: torch.Tensor) -> torch.Tensor:
    """``|w|``, in float32 for half-precision weights (exact, and every kernel supports it)."""
    scores = weight.detach().abs()
    return scores.float() if scores.dtype in (torch.float16, torch.bfloat16) else scores


def prune_magnitude(weight: torch.Tensor, share: float) -> None:
    """Zero the ``round(share × numel)`` entries of smallest ``|w|`` in place; ties at the
    threshold go to the earliest positions in row-major order."""
    count = min(round(share * weight.numel()), weight.numel())
    if count <= 0:
        return
    scores = _scores(weight).flatten()
    threshold = torch.kthvalue(scores, count).values
    mask = scores < threshold
    ties = torch.nonzero(scores == threshold).flatten()
    mask[ties[: count - int(mask.sum())]] = True
    weight.masked_fill_(mask.view(weight.shape), 0)


def prune_two_four(weight: torch.Tensor) -> int:
    """Zero the two smallest ``|w|`` of every four consecutive weights of each row, in place;
    returns 1, or 0 (nothing done) when the row length is not a multiple of 4."""
    if weight.dim() != 2 or weight.shape[-1] % 4:
        return 0
    groups = _scores(weight).reshape(-1, 4)
    order = torch.sort(groups, dim=-1, stable=True).indices
    mask = torch.zeros_like(groups, dtype=torch.bool).scatter_(-1, order[:, :2], True)
    weight.masked_fill_(mask.view(weight.shape), 0)
    return 1


def sparsity(weights: list[torch.Tensor]) -> float:
    """Share of exact zeros among all entries of ``weights``."""
    zeros = sum(int((weight == 0).sum()) for weight in weights)
    total = sum(weight.numel() for weight in weights)
    return zeros / total


def pruning_note(detail: PruningDetail, device: str) -> str:
    """One sentence for the scorecard and progress line: what pruning achieved, and that the zeros
    are stored densely, so ``device`` runs the model at the dense model's speed and memory."""
    how = "2:4" if detail.method == "2:4" else f"by magnitude to {detail.target_sparsity * 100:g}%"
    layers = f"{detail.layers} layer{'' if detail.layers == 1 else 's'}"
    return (
        f"pruned {how}: {detail.achieved_sparsity:.1%} of linear weights are zero ({layers}); "
        f"stored dense, so {device} runs it at dense speed and memory"
    )
