"""Pruning at load: which weights, how many, and that the model stays an ordinary dense model
(tiny random models built here, no download)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import prune as torch_prune
from transformers import LlamaForCausalLM

from auditkit.models.pruning import linear_weights, prune, pruning_note
from auditkit.models.spec import PruningSpec
from auditkit.results import PruningDetail
from tests.tiny_models import tiny_llama

LAYERS_PER_BLOCK = 7  # q, k, v, o, gate, up, down


def in_scope(model: LlamaForCausalLM) -> dict[str, torch.Tensor]:
    return {
        name: module.weight
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and name != "lm_head"
    }


def untouched(model: LlamaForCausalLM) -> dict[str, torch.Tensor]:
    return {
        "head": model.lm_head.weight.detach().clone(),
        "embeddings": model.model.embed_tokens.weight.detach().clone(),
    }


def assert_untouched(model: LlamaForCausalLM, before: dict[str, torch.Tensor]) -> None:
    assert torch.equal(model.lm_head.weight, before["head"])
    assert torch.equal(model.model.embed_tokens.weight, before["embeddings"])


@pytest.mark.parametrize("share", [0.5, 0.3])
def test_magnitude_zeroes_the_smallest_share_of_each_layer(share: float) -> None:
    model = tiny_llama()
    before = untouched(model)
    q_proj = model.model.layers[0].self_attn.q_proj.weight.detach().clone()
    detail = prune(model, PruningSpec(method="magnitude", sparsity=share))

    weights = in_scope(model)
    assert (detail.method, detail.target_sparsity) == ("magnitude", share)
    assert detail.layers == len(weights) == 2 * LAYERS_PER_BLOCK
    for name, weight in weights.items():
        assert int((weight == 0).sum()) == round(share * weight.numel()), name
    zeros = sum(int((w == 0).sum()) for w in weights.values())
    assert detail.achieved_sparsity == zeros / sum(w.numel() for w in weights.values())
    assert abs(detail.achieved_sparsity - share) <= max(1 / w.numel() for w in weights.values())

    # The zeroed positions are exactly the first round(share × numel) of a sort by |w|.
    count = round(share * q_proj.numel())
    smallest = torch.sort(q_proj.abs().flatten()).indices[:count]
    expected = q_proj.flatten().clone()
    expected[smallest] = 0
    assert torch.equal(model.model.layers[0].self_attn.q_proj.weight.flatten(), expected)
    assert_untouched(model, before)


def test_magnitude_breaks_ties_by_position_and_keeps_dtype() -> None:
    layer = nn.Linear(4, 2, bias=False).to(torch.bfloat16)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    model = nn.Sequential(layer)
    detail = prune(model, PruningSpec(method="magnitude", sparsity=0.5))
    assert layer.weight.dtype == torch.bfloat16
    assert layer.weight.tolist() == [[0, 0, 0, 0], [1, 1, 1, 1]]
    assert (detail.achieved_sparsity, detail.layers) == (0.5, 1)


def test_two_four_keeps_the_two_largest_of_every_group_of_four() -> None:
    model = tiny_llama()
    before = untouched(model)
    originals = {name: w.detach().clone() for name, w in in_scope(model).items()}
    detail = prune(model, PruningSpec(method="2:4"))

    assert (detail.method, detail.target_sparsity, detail.achieved_sparsity) == ("2:4", 0.5, 0.5)
    assert detail.layers == 2 * LAYERS_PER_BLOCK
    for name, weight in in_scope(model).items():
        groups = weight.reshape(-1, 4)
        original = originals[name].reshape(-1, 4)
        assert bool(((groups == 0).sum(dim=-1) >= 2).all()), name
        kept = original.abs().topk(2, dim=-1).indices
        assert torch.equal(groups.gather(-1, kept), original.gather(-1, kept)), name
        assert int((groups != 0).sum()) == 2 * groups.shape[0], name
    assert_untouched(model, before)


def test_two_four_ties_and_layers_it_cannot_hold() -> None:
    odd = nn.Linear(6, 4, bias=False)  # 6 inputs: no groups of four
    even = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        odd.weight.fill_(1.0)
        even.weight.copy_(torch.tensor([[1.0, -1.0, 1.0, 1.0], [0.0, 3.0, -2.0, 1.0]]))
    detail = prune(nn.Sequential(odd, even), PruningSpec(method="2:4"))
    assert bool((odd.weight == 1).all())
    assert even.weight.tolist() == [[0, 0, 1, 1], [0, 3, -2, 0]]
    assert detail.layers == 1
    assert detail.achieved_sparsity == 4 / (24 + 8)


def test_pruned_model_stays_an_ordinary_dense_model() -> None:
    model = tiny_llama()
    keys = list(model.state_dict())
    prune(model, PruningSpec(method="magnitude", sparsity=0.5))
    with torch.no_grad():
        logits = model(torch.tensor([[0, 5, 17, 42, 99]])).logits
    assert logits.shape == (1, 5, 300)
    assert bool(torch.isfinite(logits).all())
    assert list(model.state_dict()) == keys
    assert all(type(p) is nn.Parameter for p in model.parameters())
    for module in model.modules():
        assert not hasattr(module, "weight_orig")
        assert not hasattr(module, "weight_mask")
        assert not module._forward_pre_hooks
    assert not torch_prune.is_pruned(model)


def test_tied_head_and_linears_sharing_the_embeddings_are_skipped() -> None:
    model = tiny_llama(tied=True)
    before = untouched(model)
    detail = prune(model, PruningSpec(method="2:4"))
    assert detail.layers == 2 * LAYERS_PER_BLOCK
    assert_untouched(model, before)

    class Toy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(8, 4)
            self.proj = nn.Linear(4, 4)
            self.again = self.proj  # the same layer reached twice is pruned and counted once
            self.out = nn.Linear(4, 8, bias=False)
            self.out.weight = self.embed.weight

        def get_input_embeddings(self) -> nn.Module:
            return self.embed

    toy = Toy()
    embedding = toy.embed.weight.detach().clone()
    assert linear_weights(toy) == [toy.proj.weight]
    detail = prune(toy, PruningSpec(method="magnitude", sparsity=0.5))
    assert (detail.layers, detail.achieved_sparsity) == (1, 0.5)
    assert torch.equal(toy.embed.weight, embedding)


def test_a_model_without_linear_layers_is_refused() -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.LayerNorm(4))
    with pytest.raises(ValueError, match=r"^pruning: the model has no linear layers to prune$"):
        prune(model, PruningSpec(method="magnitude", sparsity=0.5))


def test_note_says_what_was_achieved_and_that_speed_is_dense() -> None:
    two_four = PruningDetail(method="2:4", target_sparsity=0.5, achieved_sparsity=0.5, layers=30)
    assert pruning_note(two_four, "cuda:0") == (
        "pruned 2:4: 50.0% of linear weights are zero (30 layers); stored dense, so cuda:0 "
        "runs it at dense speed and memory"
    )
    magnitude = PruningDetail(
        method="magnitude", target_sparsity=0.3, achieved_sparsity=0.30004, layers=1
    )
    note = pruning_note(magnitude, "cpu")
    assert note.startswith("pruned by magnitude to 30%: 30.0% of linear weights are zero (1 layer)")
    assert "stored dense" in note and "cpu runs it at dense speed and memory" in note
