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

from auditkit.engine.base import DeviceOutOfMemory, GenerationRequest, ProgressCallback, cut_at_stop
from auditkit.engine.hf_perf import FirstTokenTimer, synthetic_prompts
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
    outputs: list[str] = [""] * len(requests)
    sources = [engine.encode_source(r.prompt) for r in requests]
    order = sorted(range(len(requests)), key=lambda i: -len(sources[i]))
    size = engine.generation_batch_size
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for i in chunk:
            groups.setdefault((requests[i].max_new_tokens, requests[i].stop), []).append(i)
        for (max_new_tokens, stop), members in groups.items():
            candidates = engine.text.stop_candidates(stop)
            # The decoder's rows start with its start token: new text begins at column 1.
            criteria = [StopInNewText(engine.tokenizer, 1, stop, candidates)] if stop else []
            texts = decode(engine, [sources[i] for i in members], max_new_tokens, [], criteria)
            for i, text in zip(members, texts, strict=True):
                outputs[i] = cut_at_stop(text, stop)
        if progress:
            progress(len(chunk))
    return outputs


def sample_seeded(
    engine: HFSeq2SeqLM,
    requests: Sequence[SamplingRequest],
    progress: ProgressCallback | None = None,
) -> list[list[str]]:
    """``n`` samples per request; ``progress`` counts requests whose samples are all done."""
    sources = [engine.encode_source(r.prompt) for r in requests]
    rows = sorted(
        ((i, j) for i, r in enumerate(requests) for j in range(r.n)),
        key=lambda row: (-len(sources[row[0]]), row),
    )
    texts: dict[tuple[int, int], str] = {}
    start = 0
    while start < len(rows):
        length = requests[rows[start][0]].max_new_tokens  # generate() takes one per call
        end = start
        while (
            end < len(rows)
            and end - start < ROWS_PER_SAMPLING_BATCH
            and requests[rows[end][0]].max_new_tokens == length
        ):
            end += 1
        batch = rows[start:end]
        generators = [
            torch.Generator(device=engine.device).manual_seed(derive_seed(requests[i].seed, j))
            for i, j in batch
        ]
        sampler = SeededSampler([requests[i] for i, _ in batch], generators)
        outputs = decode(engine, [sources[i] for i, _ in batch], length, [sampler], [])
        for (i, j), text in zip(batch, outputs, strict=True):
            texts[(i, j)] = cut_at_stop(text, requests[i].stop)
        if progress:
            progress(len({i for i, j in batch if j == requests[i].n - 1}))
        start = end
    return [[texts[(i, j)] for j in range(r.n)] for i, r in enumerate(requests)]


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
    new token's logits exist (``hf_perf``'s first-token timer)."""
    if prompt_tokens < 1 or new_tokens < 1 or batch_size < 1:
        raise ValueError("batch size, prompt tokens and new tokens must be positive")
    if max(prompt_tokens, new_tokens + 1) > engine.max_length:
        raise ValueError(
            f"{prompt_tokens} prompt tokens or {new_tokens} new tokens exceed the model's "
            f"window of {engine.max_length} tokens"
        )
    prompts = synthetic_prompts(engine.ordinary_ids(), batch_size, prompt_tokens, seed)
    inputs = prompts.to(engine.device)
    timer = FirstTokenTimer(clock)
    out_of_memory = False
    try:
        with torch.inference_mode():
            clock.sync()
            start = clock.now()
            output = engine.model.generate(
                input_ids=inputs,
                attention_mask=torch.ones_like(inputs),
                generation_config=greedy_config(engine, new_tokens, exact=True),
                logits_processor=LogitsProcessorList([timer]),
            )
            clock.sync()
            end = clock.now()
    except torch.OutOfMemoryError:
        out_of_memory = True
    if out_of_memory:
        torch.cuda.empty_cache()
        raise DeviceOutOfMemory(
            f"batch {batch_size} × {prompt_tokens} prompt tokens + {new_tokens} new tokens "
            "does not fit in device memory"
        )
    generated = output.shape[1] - 1  # the decoder start token is not generated
    if generated != new_tokens or timer.first is None:
        raise RuntimeError(f"generation made {generated} tokens instead of {new_tokens}")
    return TimedRun(
        batch_size=batch_size,
        prompt_tokens=prompt_tokens,
        new_tokens=new_tokens,
        prefill_seconds=timer.first - start,
        total_seconds=end - start,
    )
