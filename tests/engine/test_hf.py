"""The transformers engine against direct, unbatched transformers computations."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine import GenerationRequest, LoglikelihoodRequest
from auditkit.engine.hf import HFCausalLM
from auditkit.engine.hf_tokens import rolling_pairs
from tests.tiny_models import greedy_continuation

REQUESTS = [
    LoglikelihoodRequest("Question: What is the capital city?\nAnswer:", " paris"),
    LoglikelihoodRequest("Question: What is the capital city?\nAnswer:", " the river of the moon"),
    LoglikelihoodRequest("the cat", " is a dog"),
    LoglikelihoodRequest("one two three ", "four"),  # trailing space moves to the continuation
    LoglikelihoodRequest("", "the sun"),  # empty context: scored after BOS
    LoglikelihoodRequest("a " * 40 + "tree", " house"),  # long row: padding in the same batch
]


@pytest.fixture(scope="module")
def engine(tiny_llama_dir: Path) -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama_dir)
    return HFCausalLM(model, tokenizer, name="tiny", batch_tokens=10_000)


def direct_loglikelihood(engine: HFCausalLM, context: list[int], continuation: list[int]) -> float:
    """One unpadded forward pass: the reference the batched engine must equal."""
    tokens = torch.tensor([(context + continuation)[:-1]])
    with torch.no_grad():
        logits = engine.model(tokens).logits[0, -len(continuation) :]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    return float(logprobs[torch.arange(len(continuation)), torch.tensor(continuation)].sum())


def test_loglikelihood_equals_direct_computation(engine: HFCausalLM) -> None:
    results = engine.loglikelihood(REQUESTS)
    for request, result in zip(REQUESTS, results, strict=True):
        context, continuation = engine.encode_pair(request.context, request.continuation)
        assert result.n_tokens == len(continuation)
        assert result.logprob == pytest.approx(
            direct_loglikelihood(engine, context, continuation), abs=1e-4
        )


def test_batching_does_not_change_scores(engine: HFCausalLM) -> None:
    together = engine.loglikelihood(REQUESTS)
    one_by_one = [engine.loglikelihood([r])[0] for r in REQUESTS]
    for a, b in zip(together, one_by_one, strict=True):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4)
        assert a.is_greedy == b.is_greedy


def test_encode_pair_follows_lm_eval_rules(engine: HFCausalLM) -> None:
    context, continuation = engine.encode_pair("one two three ", "four")
    assert context == engine.encode("one two three")
    assert context + continuation == engine.encode("one two three four")
    assert context[0] == engine.tokenizer.bos_token_id
    empty_context, rest = engine.encode_pair("", "the sun")
    assert empty_context == [engine.tokenizer.bos_token_id]
    assert rest == engine.encode("the sun")[1:]


def test_is_greedy_matches_greedy_decoding(engine: HFCausalLM) -> None:
    context, greedy = greedy_continuation(engine, "the capital city of")
    assert engine.loglikelihood_tokens([(context, greedy)])[0].is_greedy
    other = [(greedy[0] + 1) % 300, *greedy[1:]]
    assert not engine.loglikelihood_tokens([(context, other)])[0].is_greedy


def test_batched_generation_equals_single_prompt_generation(engine: HFCausalLM) -> None:
    prompts = ["the cat", "Question: What is the capital city?\nAnswer:", "one"]
    batched = engine.generate([GenerationRequest(p, max_new_tokens=6) for p in prompts])
    for prompt, text in zip(prompts, batched, strict=True):
        ids = torch.tensor([engine.encode(prompt)])
        with torch.no_grad():
            out = engine.model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=6,
                do_sample=False,
                pad_token_id=engine.pad_token_id,
            )
        expected = engine.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        assert text == expected


def test_generation_stops_at_stop_string(engine: HFCausalLM) -> None:
    full = engine.generate([GenerationRequest("the cat", max_new_tokens=8)])[0]
    assert len(full) > 2
    marker = full[1:3]
    cut = engine.generate([GenerationRequest("the cat", max_new_tokens=8, stop=(marker,))])[0]
    assert cut == full[: full.find(marker)]


def test_rolling_windows_predict_every_token_once() -> None:
    pairs = rolling_pairs(0, list(range(10, 20)), window=4)
    assert [target for _, target in pairs] == [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19]]
    assert pairs[0][0] == [0]
    assert pairs[1][0] == [0, 10, 11, 12, 13][-4:]


def test_rolling_loglikelihood_equals_token_sum(engine: HFCausalLM) -> None:
    text = "the cat is a dog of the river"
    tokens = engine.encode(text)
    # The tiny tokenizer adds BOS itself; the prefix token stands for it, as lm-eval scores text
    # encoded without special tokens after the prefix token (BOS counted once, not twice).
    assert tokens[0] == engine.prefix_token_id
    expected = direct_loglikelihood(engine, [engine.prefix_token_id], tokens[1:])
    assert engine.loglikelihood_rolling([text])[0] == pytest.approx(expected, abs=1e-4)
