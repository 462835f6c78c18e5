"""Generation on a transformers encoder-decoder (``HFSeq2SeqLM``): greedy with stop strings,
seeded sampling, and timed synthetic generation.

Every call right-pads the encoder inputs and runs ``generate()`` with plain greedy settings; the
output rows are the decoder's, whose first token is the decoder start token (dropped). Sampling
draws in a logits processor (``sampling.SeededSampler``) from one generator per sample, as the
causal engines do, so a sample does not depend on its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

from auditkit.engine import hf_perf
from auditkit.engine.base import GenerationRequest, ProgressCallback
from auditkit.engine.hf_generate import greedy_in_groups, sample_in_batches
from auditkit.engine.hf_perf import synthetic_prompts
from auditkit.engine.hf_precision import float64_attention
from auditkit.engine.hf_stop import StopInNewText
from auditkit.engine.sampling import SamplingRequest, SeededSampler, derive_seed
from auditkit.engine.timing import Clock, TimedRun

if TYPE_CHECKING:
    from auditkit.engine.seq2seq import HFSeq2SeqLM

ROWS_PER_SAMPLING_BATCH = 64
"""Rows (request × sample) per ``generate()`` call when sampling (as ``hf_generate``)."""


def generate_greedy(
    engine: HFSeq2SeqLM,
    requests: Sequence[GenerationRequest],
    progress: ProgressCallback | None = None,
) -> list[str]:
    """Greedy decoding of each prompt (read by the encoder), one ``generate()`` call per
    distinct (max_new_tokens, stop) setting in a batch, a row stopped as soon as its new text
    holds a stop string (``hf_stop``) and cut before it."""
    sources = [engine.encode_source(r.prompt) for r in requests]

    def decode_group(members: list[int], max_new_tokens: int, stop: tuple[str, ...]) -> list[str]:
        candidates = engine.text.stop_candidates(stop)
        # The decoder's rows start with its start token: new text begins at column 1.
        criteria = [StopInNewText(engine.tokenizer, 1, stop, candidates)] if stop else []
        return decode(engine, [sources[i] for i in members], max_new_tokens, [], criteria)

    lengths = [len(source) for source in sources]
    return greedy_in_groups(requests, lengths, engine.generation_batch_size, decode_group, progress)


def sample_seeded(
    engine: HFSeq2SeqLM,
    requests: Sequence[SamplingRequest],
    progress: ProgressCallback | None = None,
) -> list[list[str]]:
    """``n`` samples per request; ``progress`` counts requests whose samples are all done."""
    sources = [engine.encode_source(r.prompt) for r in requests]

    def decode_rows(batch: list[tuple[int, int]], length: int) -> list[str]:
        generators = [
            torch.Generator(device=engine.device).manual_seed(derive_seed(requests[i].seed, j))
            for i, j in batch
        ]
        sampler = SeededSampler([requests[i] for i, _ in batch], generators)
        return decode(engine, [sources[i] for i, _ in batch], length, [sampler], [])

    lengths = [len(source) for source in sources]
    return sample_in_batches(requests, lengths, ROWS_PER_SAMPLING_BATCH, decode_rows, progress)


def greedy_config(
    engine: HFSeq2SeqLM, max_new_tokens: int, *, exact: bool = False
) -> GenerationConfig:
    """Plain greedy decoding, whatever the checkpoint's generation config asks for (beams,
    n-gram bans, length limits); the model's forced first token (BART) is kept. ``exact``:
    exactly ``max_new_tokens`` tokens (end-of-sequence suppressed until then)."""
    length = {"min_new_tokens": max_new_tokens} if exact else {"min_length": 0}
    return GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        no_repeat_ngram_size=0,
        repetition_penalty=1.0,
        pad_token_id=engine.pad_token_id,
        eos_token_id=engine.eos_token_id,
        decoder_start_token_id=engine.decoder_start_token_id,
        **length,
    )


def decode(
    engine: HFSeq2SeqLM,
    sources: Sequence[list[int]],
    max_new_tokens: int,
    processors: list[Any],
    criteria: list[Any],
) -> list[str]:
    """The new text of each row (the decoder start token dropped, special tokens skipped)."""
    from auditkit.engine.seq2seq import right_padded

    source_ids, source_mask = right_padded(sources, engine.pad_token_id, engine.device)
    with torch.inference_mode(), float64_attention(engine.exact_attention):
        generated = engine.model.generate(
            input_ids=source_ids,
            attention_mask=source_mask,
            generation_config=greedy_config(engine, max_new_tokens),
            logits_processor=LogitsProcessorList(processors),
            stopping_criteria=StoppingCriteriaList(criteria),
        )
    return list(engine.tokenizer.batch_decode(generated[:, 1:], skip_special_tokens=True))


def timed_generate(
    engine: HFSeq2SeqLM,
    batch_size: int,
    prompt_tokens: int,
    new_tokens: int,
    clock: Clock,
    *,
    seed: int = 0,
) -> TimedRun:
    """Greedily generate exactly ``new_tokens`` decoder tokens for ``batch_size`` synthetic
    encoder inputs of exactly ``prompt_tokens`` ordinary token ids (drawn from ``seed``), timed
    with ``clock``. Prefill is the encoder pass plus the first decoder step: until the first
    new token's logits exist (``hf_perf.timed_generate``)."""
    if prompt_tokens < 1 or new_tokens < 1 or batch_size < 1:
        raise ValueError("batch size, prompt tokens and new tokens must be positive")
    if max(prompt_tokens, new_tokens + 1) > engine.max_length:
        raise ValueError(
            f"{prompt_tokens} prompt tokens or {new_tokens} new tokens exceed the model's "
            f"window of {engine.max_length} tokens"
        )
    prompts = synthetic_prompts(engine.ordinary_ids(), batch_size, prompt_tokens, seed)
    config = greedy_config(engine, new_tokens, exact=True)
    return hf_perf.timed_generate(engine.model, prompts, new_tokens, clock, config=config)
