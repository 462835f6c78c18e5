"""Scoring and generation for transformers encoder-decoder models (T5, BART; task ``text2text``).

The encoder reads the prompt (the scoring context); the decoder, starting from the model's
decoder start token, scores or writes the answer. Tokenisation follows lm-eval's seq2seq backend:
trailing context spaces move to the continuation, the context is encoded with the tokenizer's
special tokens (T5's end-of-sequence, BART's both ends) and the continuation without any.

Rows are right-padded (the decoder is causal and both stacks take a mask, so padding changes no
real position; absolute position embeddings such as BART's stay where they belong), and on a CPU
attention runs in float64 (``hf_precision.float64_attention``), so a request scores the same alone
and in any batch (T5's attention, with its position bias, stays in float32: see
``HFSeq2SeqLM.exact_attention``). Generation, seeded sampling and timed generation are in
``seq2seq_generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from auditkit.engine.base import (
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
)
from auditkit.engine.hf import budget_batches, score_target
from auditkit.engine.hf_perf import ordinary_token_ids
from auditkit.engine.hf_precision import (
    float32_head,
    float64_attention,
    has_reference_mode,
    is_low_precision,
)
from auditkit.engine.hf_tokens import Tokenization, config_max_length
from auditkit.engine.sampling import SamplingRequest
from auditkit.engine.timing import Clock, TimedRun
from auditkit.engine.torch_resources import TorchResources


@dataclass(frozen=True)
class ScoredRow:
    """Score ``target`` on the decoder after ``prefix``, with ``source`` in the encoder."""

    source: list[int]
    prefix: list[int]
    target: list[int]


class HFSeq2SeqLM(TorchResources):
    """A ``LanguageModel`` (with ``sample`` and ``PerformanceModel``) over a transformers
    ``AutoModelForSeq2SeqLM`` model and its tokenizer."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        batch_tokens: int = 8192,
        max_batch_size: int = 64,
        generation_batch_size: int = 16,
        batch_size: int | None = None,
        bytes_on_disk: int | None = None,
    ) -> None:
        """``batch_tokens`` bounds rows × (longest source + longest decoder row) of a scoring
        batch; ``batch_size``, when given, is the most rows of any forward pass, scoring and
        generation alike; ``bytes_on_disk`` is the size of the weight files (``footprint()``)."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.text = Tokenization(tokenizer)
        """Chat formatting and stop-string candidates, shared with the causal engines."""
        self._name = name
        self.batch_tokens = batch_tokens
        self.max_batch_size = batch_size or max_batch_size
        self.generation_batch_size = batch_size or generation_batch_size
        self.bytes_on_disk = bytes_on_disk
        self.pad_token_id = self.text.pad_token_id
        self.eos_token_id = tokenizer.eos_token_id
        self.decoder_start_token_id = _decoder_start(model, self.pad_token_id)
        self.low_precision = is_low_precision(model)
        """bfloat16 / float16 weights: logits are computed in float32 (``float32_head``)."""
        self.exact_attention = (
            has_reference_mode(model) or self.device.type == "cpu"
        ) and not _has_position_bias(model)
        """Attention in float64: scores identical alone and in any batch (as ``HFCausalLM``).
        Off for models with a relative position bias (T5), which ``float64_attention`` does not
        upcast: their attention stays in the model's dtype (float32 batch noise, ~1e-5 nats)."""
        self._ordinary_ids: torch.Tensor | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_length(self) -> int:
        """The longest encoder input, and the longest decoder row, the model takes."""
        return config_max_length(self.model.config)

    def format_chat(self, user_message: str) -> str:
        """The message in the tokenizer's chat template if it has one; else unchanged (an
        encoder-decoder reads the bare message)."""
        return self.text.format_chat(user_message)

    # -- tokens -------------------------------------------------------------------------------

    def encode_source(self, text: str) -> list[int]:
        """Encoder input: the tokenizer's ids with its special tokens, the last ``max_length``."""
        ids = list(self.tokenizer.encode(text))
        if not ids:  # a tokenizer that adds nothing to an empty text: the encoder needs a token
            ids = [self.eos_token_id if self.eos_token_id is not None else self.pad_token_id]
        return ids[-self.max_length :]

    def encode_target(self, text: str) -> list[int]:
        """Decoder tokens of ``text``: no special tokens (no end-of-sequence is scored)."""
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    # -- scoring ------------------------------------------------------------------------------

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        """Log P(continuation | context): the encoder reads the context, the decoder scores
        the continuation's tokens from its start token (sum of their log-probabilities;
        ``is_greedy`` when each is the decoder's argmax)."""
        sources: dict[str, list[int]] = {}
        rows = []
        for request in requests:
            context, continuation = request.context, request.continuation
            spaces = len(context) - len(context.rstrip())
            if spaces:
                context, continuation = context[:-spaces], context[-spaces:] + continuation
            if context not in sources:
                sources[context] = self.encode_source(context)
            target = self.encode_target(continuation)
            if not target:
                raise ValueError("cannot score an empty continuation")
            rows.append(ScoredRow(sources[context], [], target))
        return self.score_rows(rows, progress)

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        """Log-likelihood of each whole text on the decoder, given an *empty* encoder input
        (the encoding of ``""``: the tokenizer's special tokens alone). The text's tokens are
        scored in disjoint windows of ``max_length``; each window is decoded from the start
        token with as many of the preceding tokens as fit (lm-eval's rolling rule)."""
        empty = self.encode_source("")
        totals = []
        for text in texts:
            tokens = self.encode_target(text)
            window = self.max_length
            rows = [
                ScoredRow(empty, tokens[:start], tokens[start : start + window])
                for start in range(0, len(tokens), window)
            ]
            totals.append(sum(r.logprob for r in self.score_rows(rows)))
            if progress:
                progress(1)
        return totals

    def score_rows(
        self, rows: Sequence[ScoredRow], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        """Score every row: the work behind ``loglikelihood`` and ``loglikelihood_rolling``.

        A row's decoder input is the start token, then its prefix and all but the last target
        token, cut from the left to ``max_length``; targets longer than that keep their last
        ``max_length`` tokens."""
        limit = self.max_length
        shaped: list[tuple[list[int], list[int], list[int]]] = []
        for row in rows:
            target = row.target[-limit:]
            history = row.prefix + target[:-1]
            history = history[max(0, len(history) - (limit - 1)) :]
            shaped.append((row.source, [self.decoder_start_token_id, *history], target))
        results: list[Loglikelihood | None] = [None] * len(shaped)
        lengths = [len(source) + len(decoder) for source, decoder, _ in shaped]
        order = sorted(range(len(shaped)), key=lambda i: -lengths[i])
        with torch.inference_mode(), float64_attention(self.exact_attention):
            for batch in budget_batches(order, lengths, self.batch_tokens, self.max_batch_size):
                logprobs = self._decoder_logprobs(
                    [shaped[i][0] for i in batch], [shaped[i][1] for i in batch]
                )
                for row_logprobs, i in zip(logprobs, batch, strict=True):
                    _, decoder, target = shaped[i]
                    at = row_logprobs[len(decoder) - len(target) : len(decoder)]
                    results[i] = score_target(at, target)
                if progress:
                    progress(len(batch))
        return [r for r in results if r is not None]

    def _decoder_logprobs(
        self, sources: Sequence[list[int]], decoders: Sequence[list[int]]
    ) -> torch.Tensor:
        """Log-softmax over the vocabulary at every decoder position (rows × positions × V)."""
        source_ids, source_mask = right_padded(sources, self.pad_token_id, self.device)
        decoder_ids, decoder_mask = right_padded(decoders, self.pad_token_id, self.device)
        with float32_head(self.model.get_output_embeddings(), self.low_precision):
            logits = self.model(
                input_ids=source_ids,
                attention_mask=source_mask,
                decoder_input_ids=decoder_ids,
                decoder_attention_mask=decoder_mask,
                use_cache=False,
            ).logits.float()
        # logit − logsumexp: exact to float32 rounding (log_softmax on a CPU is not; see hf.py).
        return logits - torch.logsumexp(logits, dim=-1, keepdim=True)

    # -- generation (see seq2seq_generate) ---------------------------------------------------

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        """Greedy decoding of each prompt (read by the encoder), stopped as soon as the new text
        holds a stop string and cut before it."""
        from auditkit.engine.seq2seq_generate import generate_greedy

        return generate_greedy(self, requests, progress)

    def sample(
        self, requests: Sequence[SamplingRequest], progress: ProgressCallback | None = None
    ) -> list[list[str]]:
        """``n`` seeded samples per request (temperature, top-p): each sample draws from its own
        generator, seeded by ``derive_seed(seed, index)``, with ``SeededSampler`` (see
        ``engine.sampling``), so a sample does not depend on its batch."""
        from auditkit.engine.seq2seq_generate import sample_seeded

        return sample_seeded(self, requests, progress)

    # -- speed (the PerformanceModel capability) ----------------------------------------------

    def timed_generate(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, clock: Clock, *, seed: int = 0
    ) -> TimedRun:
        """Greedily generate exactly ``new_tokens`` decoder tokens for ``batch_size`` synthetic
        encoder inputs of exactly ``prompt_tokens`` ordinary token ids. Prefill is the encoder
        pass plus the first decoder step (until the first token's logits exist)."""
        from auditkit.engine.seq2seq_generate import timed_generate

        return timed_generate(self, batch_size, prompt_tokens, new_tokens, clock, seed=seed)

    def ordinary_ids(self) -> torch.Tensor:
        """Every token id that is not a special token (for synthetic prompts), read once."""
        if self._ordinary_ids is None:
            self._ordinary_ids = ordinary_token_ids(self.tokenizer)
        return self._ordinary_ids


def _decoder_start(model: PreTrainedModel, pad_token_id: int) -> int:
    """The token the decoder starts from: the model's (or its generation config's) own, else
    the pad token (T5's convention)."""
    for config in (model.config, getattr(model, "generation_config", None)):
        value = getattr(config, "decoder_start_token_id", None)
        if isinstance(value, int):
            return value
    return pad_token_id


def _has_position_bias(model: PreTrainedModel) -> bool:
    """Whether attention adds a learned relative position bias (T5 and its descendants)."""
    return getattr(model.config, "relative_attention_num_buckets", None) is not None


def right_padded(
    rows: Sequence[list[int]], pad_token_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, mask): ``rows`` right-padded to the longest."""
    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[index, : len(row)] = 1
    return ids.to(device), mask.to(device)
