"""Seeded sampling: the same requests and seeds give the same texts, on a tiny random Llama and
on the scripted mock model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditkit.engine.base import GenerationRequest
from auditkit.engine.mock import MockModel
from auditkit.engine.sampling import (
    SamplingRequest,
    derive_seed,
    draw_tokens,
    greedy_replies,
    sample,
)


@pytest.fixture(scope="module")
def engine(tiny_llama_dir: Path) -> Any:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    spec = ModelSpec.model_validate(
        {"id": "tiny", "source": f"hf:{tiny_llama_dir}"}, context={"base_dir": tiny_llama_dir}
    )
    return load_model(spec, "cpu").engine


PROMPTS = ["the capital city of", "a red", "one two three four five six seven"]


def requests(seed: int, **fields: Any) -> list[SamplingRequest]:
    settings = {"n": 4, "temperature": 1.0, "max_new_tokens": 6, **fields}
    return [SamplingRequest(p, seed=seed + i, **settings) for i, p in enumerate(PROMPTS)]


def test_same_seed_same_samples_whatever_the_batch(engine: Any) -> None:
    first = sample(engine, requests(1))
    assert [len(s) for s in first] == [4, 4, 4]
    assert sample(engine, requests(1)) == first
    assert sample(engine, requests(1)[1:2]) == first[1:2]  # alone or in a batch
    assert sample(engine, requests(100)) != first
    assert len({text for texts in first for text in texts}) > 3  # samples do differ


def test_temperature_zero_is_greedy(engine: Any) -> None:
    greedy = engine.generate([GenerationRequest(p, max_new_tokens=6) for p in PROMPTS])
    sampled = sample(engine, requests(1, temperature=0.0, n=2))
    assert sampled == [[text, text] for text in greedy]


def test_stop_strings_cut_samples(engine: Any) -> None:
    cut = sample(engine, requests(1, stop=(" ",)))
    assert all(" " not in text for texts in cut for text in texts)


def test_the_mock_cycles_through_scripted_variants() -> None:
    model = MockModel(replies={"colour": "red||blue||green"})
    got = sample(model, [SamplingRequest("colour?", n=4), SamplingRequest("other", n=2)])
    assert got == [["red", "blue", "green", "red"], ["I don't know.", "I don't know."]]


class GreedyOnly:
    """An engine with generate() alone."""

    def generate(self, requests: list[GenerationRequest], progress: Any = None) -> list[str]:
        return [f"<{r.prompt}:{r.max_new_tokens}>" for r in requests]


def test_other_engines_can_only_be_greedy() -> None:
    engine: Any = GreedyOnly()
    assert greedy_replies(engine, ["a", "b"], 7) == ["<a:7>", "<b:7>"]
    assert sample(engine, [SamplingRequest("a", n=2, temperature=0.0)]) == [["<a:32>"] * 2]
    with pytest.raises(TypeError, match="temperature above 0 is not supported for GreedyOnly"):
        sample(engine, [SamplingRequest("x")])


def test_draws_by_inverse_transform_within_the_nucleus() -> None:
    import torch

    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]] * 4)
    # top_p 0.7 keeps the two likeliest tokens, renormalised to 0.625 / 0.375
    nucleus = draw_tokens(probs, torch.full((4,), 0.7), torch.tensor([0.1, 0.6, 0.63, 0.99]))
    assert nucleus.tolist() == [0, 0, 1, 1]
    # top_p 1: the whole distribution, cumulative 0.5 0.8 0.95 1
    whole = draw_tokens(probs, torch.ones(4), torch.tensor([0.49, 0.51, 0.9, 0.97]))
    assert whole.tolist() == [0, 1, 2, 3]
    assert draw_tokens(probs[:1], torch.tensor([0.5]), torch.tensor([0.99])).tolist() == [0]


def test_a_nucleus_wider_than_the_candidates_sorts_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    import auditkit.engine.sampling as sampling

    monkeypatch.setattr(sampling, "NUCLEUS_CANDIDATES", 2)
    probs = torch.tensor([[0.05, 0.3, 0.15, 0.5]])  # sorted: 3, 1, 2, 0
    assert draw_tokens(probs, torch.tensor([0.9]), torch.tensor([0.99])).tolist() == [2]
    assert draw_tokens(probs, torch.tensor([0.9]), torch.tensor([0.0])).tolist() == [3]


def test_request_checks_and_seed_derivation() -> None:
    with pytest.raises(ValueError, match="n must be"):
        SamplingRequest("x", n=0)
    with pytest.raises(ValueError, match="top_p"):
        SamplingRequest("x", top_p=0.0)
    assert derive_seed(1, "a") == derive_seed(1, "a") != derive_seed(1, "b")
    assert 0 <= derive_seed(2**40, "x") < 2**63
