"""``HFSeq2SeqLM`` on tiny random T5 and BART models: scores equal a hand computation with the
model's own forward pass, do not depend on the batch, and greedy generation equals transformers'
own greedy ``generate``, cut at stop strings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from auditkit.engine.base import (
    GenerationRequest,
    LanguageModel,
    LoglikelihoodRequest,
    PerformanceModel,
)
from auditkit.engine.sampling import SamplingModel, SamplingRequest
from auditkit.engine.seq2seq import HFSeq2SeqLM, ScoredRow
from auditkit.engine.timing import PerfCounterClock
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec
from tests.tiny_models import WORDS
from tests.tiny_seq2seq import MAX_POSITIONS, build_seq2seq

FAMILIES = ["t5", "bart"]
EXACT = 1e-4

REQUESTS = [
    LoglikelihoodRequest("Question: What is the capital city?\nAnswer:", " paris"),
    LoglikelihoodRequest("Question: What is the capital city?\nAnswer:", " berlin"),
    LoglikelihoodRequest("the cat sat in the house", " with a dog and a bird"),
    LoglikelihoodRequest("one two", " three"),
    LoglikelihoodRequest("", "red green blue"),
    LoglikelihoodRequest("a", " tree house car book sun moon star fire water earth"),
]


@pytest.fixture(scope="module", params=FAMILIES)
def model_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    family = str(request.param)
    return build_seq2seq(tmp_path_factory.mktemp("models") / f"tiny-{family}", family=family)


def engine_for(folder: Path, **options: int) -> HFSeq2SeqLM:
    model = AutoModelForSeq2SeqLM.from_pretrained(folder)
    return HFSeq2SeqLM(model, AutoTokenizer.from_pretrained(folder), name=folder.name, **options)


def by_hand(engine: HFSeq2SeqLM, context: str, continuation: str) -> tuple[float, bool]:
    """Log P(continuation | context) from one unbatched forward pass: the encoder reads the
    context with its special tokens, the decoder the start token and the continuation."""
    tokenizer, model = engine.tokenizer, engine.model
    source = torch.tensor([tokenizer(context).input_ids])
    target = tokenizer(continuation, add_special_tokens=False).input_ids
    decoder = torch.tensor([[model.config.decoder_start_token_id, *target[:-1]]])
    with torch.no_grad():
        logits = model(input_ids=source, decoder_input_ids=decoder).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)
    picked = logprobs[torch.arange(len(target)), torch.tensor(target)]
    return float(picked.sum()), bool((logprobs.argmax(-1) == torch.tensor(target)).all())


def test_offers_the_language_model_interfaces(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    assert isinstance(engine, LanguageModel)
    assert isinstance(engine, PerformanceModel)
    assert isinstance(engine, SamplingModel)
    assert engine.max_length == MAX_POSITIONS
    assert engine.format_chat("What is the capital?") == "What is the capital?"


def test_loglikelihood_equals_the_models_own_forward_pass(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    scored = engine.loglikelihood(REQUESTS)
    for request, result in zip(REQUESTS, scored, strict=True):
        logprob, greedy = by_hand(engine, request.context, request.continuation)
        assert result.logprob == pytest.approx(logprob, abs=EXACT)
        assert result.is_greedy == greedy
        expected_tokens = engine.tokenizer(request.continuation, add_special_tokens=False)
        assert result.n_tokens == len(expected_tokens.input_ids)


def test_trailing_context_spaces_move_to_the_continuation(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    moved, plain = engine.loglikelihood(
        [LoglikelihoodRequest("one two ", "three"), LoglikelihoodRequest("one two", " three")]
    )
    assert moved == plain


def test_scores_are_the_same_alone_and_in_a_batch(model_dir: Path) -> None:
    mixed = engine_for(model_dir).loglikelihood(REQUESTS)
    single = engine_for(model_dir, batch_size=1)
    alone = [single.loglikelihood([request])[0] for request in REQUESTS]
    for a, m in zip(alone, mixed, strict=True):
        assert a.logprob == pytest.approx(m.logprob, abs=EXACT)
        assert (a.is_greedy, a.n_tokens) == (m.is_greedy, m.n_tokens)


def test_the_greedy_continuation_is_greedy(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    source = engine.encode_source("the cat sat")
    with torch.no_grad():
        generated = engine.model.generate(
            input_ids=torch.tensor([source]), max_new_tokens=4, do_sample=False, min_new_tokens=4
        )
    tokens = generated[0, 1:].tolist()
    (result,) = engine.score_rows([ScoredRow(source, [], tokens)])
    assert result.is_greedy and result.n_tokens == 4
    (worse,) = engine.score_rows([ScoredRow(source, [], [*tokens[:3], (tokens[3] + 1) % 300])])
    assert not worse.is_greedy and worse.logprob < result.logprob


def test_rolling_loglikelihood_scores_windows_from_an_empty_encoder_input(
    model_dir: Path,
) -> None:
    engine = engine_for(model_dir)
    text = " ".join(WORDS * 2)
    tokens = engine.encode_target(text)
    assert len(tokens) > MAX_POSITIONS  # more than one window
    empty = torch.tensor([engine.tokenizer("").input_ids])
    start = engine.model.config.decoder_start_token_id
    total = 0.0
    for begin in range(0, len(tokens), MAX_POSITIONS):
        target = tokens[begin : begin + MAX_POSITIONS]
        history = (tokens[:begin] + target[:-1])[-(MAX_POSITIONS - 1) :]
        decoder = torch.tensor([[start, *history]])
        with torch.no_grad():
            logits = engine.model(input_ids=empty, decoder_input_ids=decoder).logits[0].double()
        logprobs = torch.log_softmax(logits, dim=-1)[-len(target) :]
        total += float(logprobs[torch.arange(len(target)), torch.tensor(target)].sum())
    assert engine.loglikelihood_rolling([text, ""]) == [pytest.approx(total, abs=EXACT), 0.0]


PROMPTS = ["the cat", "Question: What is the capital city?\nAnswer:", "one two three four five"]


def reference_greedy(engine: HFSeq2SeqLM, prompt: str, tokens: int) -> str:
    source = torch.tensor([engine.tokenizer(prompt).input_ids])
    with torch.no_grad():
        out = engine.model.generate(input_ids=source, max_new_tokens=tokens, do_sample=False)
    return str(engine.tokenizer.decode(out[0, 1:], skip_special_tokens=True))


def test_greedy_generation_equals_transformers_greedy_generate(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    outputs = engine.generate([GenerationRequest(p, max_new_tokens=12) for p in PROMPTS])
    assert outputs == [reference_greedy(engine, p, 12) for p in PROMPTS]
    assert any(outputs)


def test_generation_stops_at_the_first_stop_string(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    full = engine.generate([GenerationRequest(p, max_new_tokens=12) for p in PROMPTS])
    text = max(full, key=len)
    stop = text[3:5]
    prompt = PROMPTS[full.index(text)]
    (cut,) = engine.generate([GenerationRequest(prompt, max_new_tokens=12, stop=(stop,))])
    assert cut == text[: text.index(stop)]
    (kept,) = engine.generate([GenerationRequest(prompt, max_new_tokens=12, stop=("§",))])
    assert kept == text


def test_seeded_samples_do_not_depend_on_the_batch(model_dir: Path) -> None:
    engine = engine_for(model_dir)
    request = SamplingRequest(PROMPTS[1], n=3, temperature=1.0, max_new_tokens=6, seed=7)
    other = SamplingRequest(PROMPTS[0], n=2, temperature=0.7, top_p=0.9, max_new_tokens=6)
    together = engine.sample([other, request])
    alone = engine.sample([request])
    assert together[1] == alone[0]
    assert engine.sample([request]) == alone  # seeded: the same again
    greedy = engine.sample([SamplingRequest(PROMPTS[2], n=2, temperature=0, max_new_tokens=8)])
    assert greedy == [[reference_greedy(engine, PROMPTS[2], 8)] * 2]


def test_timed_generation_makes_exactly_the_tokens_asked_for(model_dir: Path) -> None:
    run = engine_for(model_dir).timed_generate(3, 10, 5, PerfCounterClock(), seed=1)
    assert (run.batch_size, run.prompt_tokens, run.new_tokens) == (3, 10, 5)
    assert 0 < run.prefill_seconds <= run.total_seconds
    with pytest.raises(ValueError, match="window"):
        engine_for(model_dir).timed_generate(1, MAX_POSITIONS + 1, 5, PerfCounterClock())


def spec_for(folder: Path, **fields: object) -> ModelSpec:
    return ModelSpec.model_validate(
        {"id": "s2s", "source": f"hf:{folder}", **fields}, context={"base_dir": folder.parent}
    )


def test_the_builder_loads_a_text2text_model_from_its_folder(model_dir: Path) -> None:
    spec = spec_for(model_dir)
    assert spec.model_task == "text2text"  # read from the config's architecture
    loaded = load_model(spec, "cpu")
    engine = loaded.engine
    assert isinstance(engine, HFSeq2SeqLM)
    assert loaded.info.architecture.endswith("ForConditionalGeneration")
    assert loaded.info.task == "text2text" and loaded.info.license == "apache-2.0"
    assert loaded.info.bytes_on_disk > 0
    assert engine.footprint().bytes_on_disk == loaded.info.bytes_on_disk
    assert engine.loglikelihood(REQUESTS[:2]) == engine_for(model_dir).loglikelihood(REQUESTS[:2])


def test_the_builder_honours_dtype_quantization_and_pruning(model_dir: Path) -> None:
    reference = engine_for(model_dir).loglikelihood(REQUESTS)
    half = load_model(spec_for(model_dir, dtype="bfloat16"), "cpu")
    assert half.info.dtype == "bfloat16"
    int8 = load_model(spec_for(model_dir, quantization="int8-dynamic"), "cpu")
    assert int8.info.quantization_detail is not None
    assert int8.info.quantization_detail.weight_bits == 8
    int4 = load_model(spec_for(model_dir, quantization="int4-weight-only", group_size=32), "cpu")
    assert int4.info.quantization_detail is not None
    assert int4.info.quantization_detail.library == "torchao"
    pruned = load_model(spec_for(model_dir, pruning={"method": "2:4"}), "cpu")
    assert pruned.info.pruning is not None and pruned.info.pruning.achieved_sparsity == 0.5
    for loaded in (half, int8, int4):  # near the float32 scores
        scores = loaded.engine.loglikelihood(REQUESTS)
        assert all(
            abs(s.logprob - r.logprob) < 0.1 * abs(r.logprob) + 1.0
            for s, r in zip(scores, reference, strict=True)
        )
    pruned_scores = [s.logprob for s in pruned.engine.loglikelihood(REQUESTS)]
    assert all(math.isfinite(s) for s in pruned_scores)
    assert pruned_scores != [r.logprob for r in reference]  # half its weights are gone
