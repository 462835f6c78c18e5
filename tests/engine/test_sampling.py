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
    _nucleus,
    derive_seed,
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


def test_nucleus_keeps_the_smallest_set_reaching_top_p() -> None:
    import torch

    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    assert _nucleus(probs, 0.7).tolist() == pytest.approx([0.5 / 0.8, 0.3 / 0.8, 0.0, 0.0])
    assert _nucleus(probs, 0.5).tolist() == pytest.approx([1.0, 0.0, 0.0, 0.0])


def test_request_checks_and_seed_derivation() -> None:
    with pytest.raises(ValueError, match="n must be"):
        SamplingRequest("x", n=0)
    with pytest.raises(ValueError, match="top_p"):
        SamplingRequest("x", top_p=0.0)
    assert derive_seed(1, "a") == derive_seed(1, "a") != derive_seed(1, "b")
    assert 0 <= derive_seed(2**40, "x") < 2**63
