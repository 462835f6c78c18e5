"""Stop strings checked on token ids give exactly what decoding every step gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria

from auditkit.engine import GenerationRequest
from auditkit.engine import hf_generate as hf_module
from auditkit.engine.hf import HFCausalLM
from auditkit.engine.hf_stop import StopInNewText, TokenTexts, _may_end

PROMPTS = ["the cat", "Question: What is the capital city?\nAnswer:", "one", "red green blue"]


@pytest.fixture(scope="module")
def engine(tiny_llama_dir: Path) -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    return HFCausalLM(model, tokenizer, name="tiny")


class DecodeEveryStep(StoppingCriteria):
    """The reference: decode every row's generated text at every step."""

    def __init__(self, tokenizer: Any, prompt_width: int, stop: tuple[str, ...], *_: Any) -> None:
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        self.stop = stop

    def __call__(
        self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any
    ) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(
            input_ids[:, self.prompt_width :], skip_special_tokens=True
        )
        done = [any(m in t for m in self.stop if m) for t in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def test_a_token_is_a_candidate_only_if_it_can_end_a_stop_string() -> None:
    assert not _may_end("\n", ["\n\nQ"])  # starts one, but a later token ends it
    assert not _may_end("cat", ["\n\nQ"])
    assert _may_end("Q", ["\n\nQ"])  # ends an occurrence started by earlier tokens
    assert _may_end("\nQ:", ["\n\nQ"])  # …or one whose end lies inside the token
    assert _may_end(":", ["Answer:"])
    assert not _may_end("Answer", ["Answer:"])  # cannot end "Answer:" itself
    assert _may_end("Answer: yes", ["Answer:"])  # contains it
    assert _may_end("\ufffd", ["x"])  # partial UTF-8: decodes differently later


def test_candidates_come_from_every_token_text(engine: HFCausalLM) -> None:
    texts = TokenTexts(engine.tokenizer)
    candidates = texts.candidates(("ty",))
    for token in range(len(engine.tokenizer)):
        text = engine.tokenizer.decode([token], skip_special_tokens=True)
        if text.startswith("y") or "ty" in text:
            assert token in candidates
    assert len(candidates) < len(engine.tokenizer) / 2


def stops_from(texts: list[str]) -> list[tuple[str, ...]]:
    """Stop strings that occur in the unconstrained outputs, at various places and lengths."""
    stops: set[tuple[str, ...]] = {("\n",), ("zzz",)}
    for text in texts:
        for start, length in ((0, 1), (1, 2), (len(text) // 2, 4), (len(text) - 2, 2)):
            marker = text[max(0, start) : max(0, start) + length]
            if marker:
                stops.add((marker,))
        stops.add(("never-there", text[2:5]))
    return sorted(stops)


def test_stop_on_token_ids_equals_decoding_every_step(
    engine: HFCausalLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = engine.generate([GenerationRequest(p, max_new_tokens=12) for p in PROMPTS])
    for stop in stops_from(full):
        requests = [GenerationRequest(p, max_new_tokens=12, stop=stop) for p in PROMPTS]
        ours = engine.generate(requests)
        with monkeypatch.context() as patch:
            patch.setattr(hf_module, "StopInNewText", DecodeEveryStep)
            reference = engine.generate(requests)
        assert ours == reference, stop


def test_stop_decodes_only_at_candidate_tokens(
    engine: HFCausalLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[StopInNewText] = []

    def recording(*args: Any) -> StopInNewText:
        made.append(StopInNewText(*args))
        return made[-1]

    monkeypatch.setattr(hf_module, "StopInNewText", recording)
    engine.generate([GenerationRequest(p, max_new_tokens=10, stop=("zzz",)) for p in PROMPTS])
    assert made and made[0].decodes < 10 * len(PROMPTS)
