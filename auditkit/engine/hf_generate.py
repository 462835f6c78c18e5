"""Generation on a transformers causal LM: greedy (``HFCausalLM.generate``) and seeded sampling
(``HFCausalLM.sample``).

Sampling: left-padded batches go through ``generate()``, whose greedy step takes the token that
``SeededSampler`` has drawn for each row: softmax at the row's temperature, the top-p nucleus, and
an inverse-transform draw of one uniform number from the row's own ``torch.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

from auditkit.engine.base import GenerationRequest, ProgressCallback, cut_at_stop
from auditkit.engine.hf_precision import float64_attention
from auditkit.engine.hf_stop import StopInNewText
from auditkit.engine.sampling import SamplingRequest, SeededSampler, derive_seed

if TYPE_CHECKING:
    from auditkit.engine.hf import HFCausalLM


def generate_greedy(
    engine: HFCausalLM,
    requests: Sequence[GenerationRequest],
    progress: ProgressCallback | None = None,
) -> list[str]:
    """Greedy continuations of each prompt, cut at the first stop string: left-padded batches
    through ``generate()``, one call per distinct (max_new_tokens, stop) setting, stopping a row
    as soon as its new text holds a stop string (``hf_stop``)."""
    encoded = [engine.encode(r.prompt) for r in requests]

    def decode_group(members: list[int], max_new_tokens: int, stop: tuple[str, ...]) -> list[str]:
        prompt_ids = [encoded[i][-(engine.max_length - max_new_tokens) :] for i in members]
        batch = engine._left_padded(prompt_ids)
        batch.pop("position_ids", None)  # generate() derives them from the mask
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=engine.pad_token_id,
            eos_token_id=engine.tokenizer.eos_token_id,
        )
        width = batch["input_ids"].shape[1]
        criteria = StoppingCriteriaList(
            [StopInNewText(engine.tokenizer, width, stop, engine.stop_candidates(stop))]
            if stop
            else []
        )
        with torch.inference_mode(), float64_attention(engine.exact_attention):
            generated = engine.model.generate(
                **batch, generation_config=config, stopping_criteria=criteria
            )
        new_tokens = generated[:, batch["input_ids"].shape[1] :].tolist()
        return list(engine.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))

    lengths = [len(ids) for ids in encoded]
    return greedy_in_groups(requests, lengths, engine.generation_batch_size, decode_group, progress)


def greedy_in_groups(
    requests: Sequence[GenerationRequest],
    lengths: Sequence[int],
    batch_size: int,
    decode_group: Callable[[list[int], int, tuple[str, ...]], list[str]],
    progress: ProgressCallback | None,
) -> list[str]:
    """The batching of greedy generation, shared by the causal and encoder-decoder engines:
    requests longest prompt (``lengths``) first, in chunks of ``batch_size``, and in a chunk one
    ``decode_group(members, max_new_tokens, stop)`` call (one ``generate()``) per distinct
    (max_new_tokens, stop) setting; each text is cut at its first stop string."""
    outputs: list[str] = [""] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: -lengths[i])
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for i in chunk:
            groups.setdefault((requests[i].max_new_tokens, requests[i].stop), []).append(i)
        for (max_new_tokens, stop), members in groups.items():
            texts = decode_group(members, max_new_tokens, stop)
            for i, text in zip(members, texts, strict=True):
                outputs[i] = cut_at_stop(text, stop)
        if progress:
            progress(len(chunk))
    return outputs


def sample_in_batches(
    requests: Sequence[SamplingRequest],
    lengths: Sequence[int],
    rows_per_batch: int,
    decode_rows: Callable[[list[tuple[int, int]], int], list[str]],
    progress: ProgressCallback | None,
) -> list[list[str]]:
    """The batching of seeded sampling, shared by the causal and encoder-decoder engines: one
    row per (request, sample), longest prompt (``lengths``) first, at most ``rows_per_batch``
    rows per ``decode_rows(rows, max_new_tokens)`` call, a batch ending where max_new_tokens
    changes (``generate()`` takes one). Each text is cut at its request's first stop string;
    ``progress`` counts requests whose samples are all done."""
    rows = sorted(
        ((i, j) for i, r in enumerate(requests) for j in range(r.n)),
        key=lambda row: (-lengths[row[0]], row),
    )
    texts: dict[tuple[int, int], str] = {}
    start = 0
    while start < len(rows):
        length = requests[rows[start][0]].max_new_tokens
        end = start
        while (
            end < len(rows)
            and end - start < rows_per_batch
            and requests[rows[end][0]].max_new_tokens == length
        ):
            end += 1
        batch = rows[start:end]
        for row, text in zip(batch, decode_rows(batch, length), strict=True):
            texts[row] = cut_at_stop(text, requests[row[0]].stop)
        if progress:
            progress(len({i for i, j in batch if j == requests[i].n - 1}))
        start = end
    return [[texts[(i, j)] for j in range(r.n)] for i, r in enumerate(requests)]


ROWS_PER_BATCH = 64
"""Rows (request × sample) per generate() call. On a CPU a decoding step costs about the same
for 16 rows as for 64, so wide batches are several times faster; the memory is small."""


class HFSampler:
    """Seeded sampling on a transformers causal LM."""

    def __init__(self, engine: HFCausalLM, rows_per_batch: int | None = None) -> None:
        self.engine = engine
        self.model = engine.model
        self.tokenizer = engine.tokenizer
        self.rows_per_batch = rows_per_batch or ROWS_PER_BATCH
        pad = self.tokenizer.pad_token_id
        self.pad_token_id = int(pad if pad is not None else (self.tokenizer.eos_token_id or 0))
        self.device = next(self.model.parameters()).device

    def run(
        self, requests: Sequence[SamplingRequest], progress: Callable[[int], None] | None
    ) -> list[list[str]]:
        limit = int(getattr(self.engine, "max_length", 2048))
        encoded = [
            list(self.engine.encode(r.prompt))[-max(1, limit - r.max_new_tokens) :]
            for r in requests
        ]
        return sample_in_batches(
            requests,
            [len(ids) for ids in encoded],
            self.rows_per_batch,
            lambda batch, length: self._generate(batch, requests, encoded, length),
            progress,
        )

    def _generate(
        self,
        batch: list[tuple[int, int]],
        requests: Sequence[SamplingRequest],
        encoded: list[list[int]],
        max_new_tokens: int,
    ) -> list[str]:
        prompts = [encoded[i] for i, _ in batch]
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids) :] = 1
        settings = [requests[i] for i, _ in batch]
        generators = [
            torch.Generator(device=self.device).manual_seed(derive_seed(r.seed, j))
            for r, (_, j) in zip(settings, batch, strict=True)
        ]
        sampler = SeededSampler(settings, generators)
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        with torch.inference_mode(), float64_attention(self.engine.exact_attention):
            generated = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=mask.to(self.device),
                generation_config=config,
                logits_processor=LogitsProcessorList([sampler]),
            )
        new_tokens = generated[:, width:].tolist()
        return list(self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
