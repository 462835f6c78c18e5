"""Batched scoring and greedy generation for transformers causal language models.

Tokenisation follows lm-eval's Hugging Face backend exactly (trailing context spaces move to the
continuation; the pair is encoded whole and split at the context's length), so the numbers equal
lm-eval's for the same model and data.

Scoring runs every distinct context once and scores all its continuations on it (see
``hf_packed``); the plain one-pair-per-row computation stays available (``fast=False``) as the
reference it is tested against, and is used for models whose attention cannot take a tree-shaped
mask.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import (
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from auditkit.engine import hf_perf
from auditkit.engine.base import (
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
)
from auditkit.engine.hf_packed import (
    PackedBatch,
    PackedRow,
    ScoringStats,
    pack_rows,
    row_batches,
    score_batch_halving,
    tree_mask,
)
from auditkit.engine.hf_precision import (
    NATIVE_ATTENTION_NOISE,
    float32_head,
    float64_attention,
    has_packed_weights,
    has_reference_mode,
    is_low_precision,
    reference_weights,
)
from auditkit.engine.hf_tokens import Tokenization, config_max_length
from auditkit.engine.sampling import SamplingRequest
from auditkit.engine.timing import Clock, TimedRun
from auditkit.engine.torch_resources import TorchResources

PACKING_ATTENTION = ("sdpa", "eager")
"""Attention implementations known to apply a custom 4-D mask as given."""


class HFCausalLM(Tokenization, TorchResources):
    """A ``LanguageModel`` over a loaded transformers model and its tokenizer; its resource
    readings (``clock``, ``footprint``, peak memory, energy) are ``TorchResources``'."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        batch_tokens: int = 8192,
        max_batch_size: int = 64,
        generation_batch_size: int = 16,
        logits_budget: int | None = None,
        fast: bool = True,
        bytes_on_disk: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        """``batch_tokens`` bounds rows × longest row of a scoring batch; ``logits_budget``
        bounds the logits a shared-context batch computes, rows × columns × vocabulary (default
        2**26 on a CPU, 2**28 on an accelerator); ``fast`` turns on shared-context scoring;
        ``bytes_on_disk`` is the size of the weight files, reported by ``footprint()``;
        ``batch_size``, when given, is the most rows of any forward pass, scoring and generation
        alike (it replaces ``max_batch_size`` and ``generation_batch_size``)."""
        super().__init__(tokenizer)
        self.model = model.eval()
        self._name = name
        self.batch_tokens = batch_tokens
        self.max_batch_size = batch_size or max_batch_size
        self.generation_batch_size = batch_size or generation_batch_size
        self.fast = fast
        self.bytes_on_disk = bytes_on_disk
        if logits_budget is None:
            logits_budget = 2**26 if self.device.type == "cpu" else 2**28
        self.logits_budget = logits_budget
        forward = inspect.signature(model.forward).parameters
        self._takes_position_ids = "position_ids" in forward
        self._takes_logits_to_keep = "logits_to_keep" in forward
        self.stats = ScoringStats()
        """What shared-context scoring did so far (batch sizes, out-of-memory halvings)."""
        self._row_cap = self.max_batch_size
        self._packing_checked = False
        self.low_precision = is_low_precision(model)
        """bfloat16 / float16 weights: logits are computed in float32 (``float32_head``)."""
        self.packed = has_packed_weights(model)
        """Weights in a packed tensor subclass (torchao): no float32 reference to check on."""
        self.quantized = has_reference_mode(model) or self.packed
        """Quantized layers: auditkit's int8 (checked on its float32 reference,
        ``reference_weights``) or packed weights."""
        self.exact_attention = self.quantized or self.device.type == "cpu"
        """Attention in float64 (``float64_attention``): scores identical alone and in any
        batch. On for every model on a CPU and for int8 models everywhere."""
        self.notes: list[str] = []
        """What a user must know about how this engine scores (shown with the model's info)."""

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_length(self) -> int:
        return config_max_length(self.model.config)

    # -- scoring ------------------------------------------------------------------------------

    def loglikelihood(
        self,
        requests: Sequence[LoglikelihoodRequest],
        progress: ProgressCallback | None = None,
        *,
        fast: bool | None = None,
    ) -> list[Loglikelihood]:
        """Score each request; ``fast`` overrides the engine's choice of shared-context scoring."""
        return self.loglikelihood_tokens(self.encode_pairs(requests), progress, fast=fast)

    def loglikelihood_tokens(
        self,
        pairs: Sequence[tuple[list[int], list[int]]],
        progress: ProgressCallback | None = None,
        *,
        fast: bool | None = None,
    ) -> list[Loglikelihood]:
        """Score token-level (context, continuation) pairs: the work behind ``loglikelihood``."""
        wanted = self.fast if fast is None else fast
        packed = wanted and self.check_packing()
        with float64_attention(self.exact_attention):
            if packed:
                return self._loglikelihood_packed(pairs, progress)
            return self._loglikelihood_plain(pairs, progress)

    @property
    def packing_supported(self) -> bool:
        """Whether the model takes position ids and a custom 4-D attention mask as given, with no
        sliding window that could bind inside the model's window."""
        config = self.model.config
        window = getattr(config, "sliding_window", None)
        layer_types = set(getattr(config, "layer_types", None) or ["full_attention"])
        return (
            self._takes_position_ids
            and getattr(config, "_attn_implementation", None) in PACKING_ATTENTION
            and (window is None or window >= self.max_length)
            and layer_types == {"full_attention"}
        )

    def check_packing(self) -> bool:
        """Whether shared-context scoring equals plain scoring on this model (checked once).

        Scores seeded synthetic pairs (three contexts, continuations of 1–4 tokens) both ways in
        float32, on the float32 reference of low-precision or quantized weights
        (``reference_weights``): the check is about whether the architecture honours positions
        and the tree mask, which no dtype or quantization changes, and in float32 a real
        mismatch cannot hide in rounding noise. On a mismatch,
        shared-context scoring is turned off and ``notes`` says so."""
        if self._packing_checked or not (self.fast and self.packing_supported):
            return self.fast and self.packing_supported
        ids = self.timing_prompts(3, 16, 1, seed=0).tolist()
        pairs = [
            (context[: 6 + 4 * c], context[12 : 12 + n])
            for c, context in enumerate(ids)
            for n in (1, 2, 4)
        ]
        try:
            if self.packed:  # no float32 reference: compare as it runs
                raise _CompareAsItRuns
            exact = not (self.low_precision or self.quantized)
            with _nothing() if exact else reference_weights(self.model):
                packed = self._loglikelihood_packed(pairs, None)
                plain = self._loglikelihood_plain(pairs, None)
            tolerance = 1e-3
        except (torch.OutOfMemoryError, _CompareAsItRuns):  # e.g. no room for float32 copies
            packed = self._loglikelihood_packed(pairs, None)
            plain = self._loglikelihood_plain(pairs, None)
            tolerance = NATIVE_ATTENTION_NOISE * max(len(t) for _, t in pairs)
        worst = max(abs(a.logprob - b.logprob) for a, b in zip(packed, plain, strict=True))
        self._packing_checked = True
        if worst > tolerance:
            self.fast = False
            self.notes.append(
                f"scored one pair per row: shared-context scoring disagreed with plain scoring by "
                f"{worst:.2g} nats on this architecture"
            )
        return self.fast

    def _loglikelihood_packed(
        self, pairs: Sequence[tuple[list[int], list[int]]], progress: ProgressCallback | None
    ) -> list[Loglikelihood]:
        rows = pack_rows(pairs, self.max_length, self.batch_tokens)
        results: list[Loglikelihood | None] = [None] * len(pairs)
        batches = row_batches(
            rows,
            batch_tokens=self.batch_tokens,
            max_batch_size=self.max_batch_size,
            logits_budget=self.logits_budget,
            vocab_size=self._vocab_size,
        )
        with torch.inference_mode():
            for batch in batches:
                for chunk in _chunks(batch, self._row_cap):
                    scored = score_batch_halving(
                        chunk, self._packed_forward, self.pad_token_id, self.stats, self._cap_rows
                    )
                    for branch, result in scored:
                        for index in branch.requests:
                            results[index] = result
                    if progress:
                        progress(sum(row.n_requests for row in chunk))
        return [r for r in results if r is not None]

    @property
    def _vocab_size(self) -> int:
        head = self.model.get_output_embeddings()
        weight = getattr(head, "weight", None)
        if isinstance(weight, torch.Tensor):
            return int(weight.shape[0])
        return int(getattr(self.model.config, "vocab_size", 0) or len(self.tokenizer))

    def _cap_rows(self, rows: int) -> None:
        """After running out of device memory: no later batch gets more than ``rows`` rows."""
        self._row_cap = max(1, min(self._row_cap, rows))

    def _packed_forward(self, packed: PackedBatch) -> torch.Tensor:
        additive = None if self.model.config._attn_implementation == "sdpa" else self.model.dtype
        batch: dict[str, Any] = {
            "input_ids": packed.input_ids.to(self.device),
            "position_ids": packed.position_ids.to(self.device),
            "attention_mask": tree_mask(packed.segments.to(self.device), additive_dtype=additive),
            "use_cache": False,
        }
        if self._takes_logits_to_keep:
            batch["logits_to_keep"] = packed.keep
        positions = torch.tensor(packed.positions, device=self.device)
        head = self.model.get_output_embeddings()
        if not isinstance(head, torch.nn.Module):
            logits: torch.Tensor = self.model(**batch).logits[:, -packed.keep :, :]
            return logits.reshape(-1, logits.shape[-1])[positions]
        # The head sees only the hidden states of the target positions: no head work, and no
        # normalisation later, for the kept columns that predict nothing.
        row, column = positions // packed.keep, positions % packed.keep

        def targets_only(_: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
            hidden = args[0]
            width = hidden.shape[1]
            flat = row * width + (width - packed.keep) + column
            selected = hidden.reshape(-1, hidden.shape[-1]).index_select(0, flat)
            return (selected[None], *args[1:])

        handle = head.register_forward_pre_hook(targets_only)
        try:
            with float32_head(head, self.low_precision):
                logits = self.model(**batch).logits
        finally:
            handle.remove()
        return logits.reshape(-1, logits.shape[-1])

    def _loglikelihood_plain(
        self, pairs: Sequence[tuple[list[int], list[int]]], progress: ProgressCallback | None
    ) -> list[Loglikelihood]:
        """One row per pair, left-padded: the reference computation."""
        limit = self.max_length
        rows: list[tuple[list[int], int]] = []
        for context, continuation in pairs:
            if not continuation:
                raise ValueError("cannot score an empty continuation")
            # Left-truncate to the model's window, as lm-eval does; the last token is only a target.
            tokens = (context + continuation)[-(limit + 1) :]
            rows.append((tokens, len(continuation)))
        results: list[Loglikelihood | None] = [None] * len(rows)
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))
        with torch.inference_mode():
            lengths = [len(t) - 1 for t, _ in rows]
            for batch in budget_batches(order, lengths, self.batch_tokens, self.max_batch_size):
                inputs = [rows[i][0][:-1] for i in batch]
                targets = [rows[i][0][-rows[i][1] :] for i in batch]
                logprobs = self._continuation_logprobs(inputs, [len(t) for t in targets])
                for i, row_logprobs, target in zip(batch, logprobs, targets, strict=True):
                    results[i] = score_target(row_logprobs, target)
                if progress:
                    progress(len(batch))
        return [r for r in results if r is not None]

    def _left_padded(self, inputs: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        width = max(len(ids) for ids in inputs)
        input_ids = torch.full((len(inputs), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(inputs), width), dtype=torch.long)
        for row, ids in enumerate(inputs):
            if ids:
                input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                mask[row, width - len(ids) :] = 1
        batch: dict[str, torch.Tensor] = {
            "input_ids": input_ids.to(self.device),
            "attention_mask": mask.to(self.device),
        }
        if self._takes_position_ids:
            batch["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0).to(self.device)
        return batch

    def _continuation_logprobs(
        self, inputs: Sequence[Sequence[int]], target_lengths: Sequence[int]
    ) -> list[torch.Tensor]:
        """Log-softmax rows at each input's last ``target_length`` positions.

        Rows are left-padded, so every continuation ends at the last column and the LM head only
        has to run on the last ``max(target_lengths)`` positions.
        """
        keep = max(target_lengths)
        batch: dict[str, Any] = self._left_padded(inputs)
        batch["use_cache"] = False
        if self._takes_logits_to_keep:
            batch["logits_to_keep"] = keep
        with float32_head(self.model.get_output_embeddings(), self.low_precision):
            logits = self.model(**batch).logits[:, -keep:, :].float()
        # logit − logsumexp rather than log_softmax: on a CPU, float32 log_softmax over a large
        # vocabulary is biased by a few 1e-6 per token; logsumexp is exact to float32 rounding.
        logprobs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        return [logprobs[row, keep - n :, :] for row, n in enumerate(target_lengths)]

    # -- generation ---------------------------------------------------------------------------

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        """Greedy continuations, cut at the first stop string; see ``hf_generate``."""
        from auditkit.engine.hf_generate import generate_greedy

        return generate_greedy(self, requests, progress)

    def sample(
        self, requests: Sequence[SamplingRequest], progress: ProgressCallback | None = None
    ) -> list[list[str]]:
        """Seeded samples (temperature, top-p) per request; see ``hf_generate``."""
        from auditkit.engine.hf_generate import HFSampler

        return HFSampler(self).run(requests, progress)

    # -- speed (the PerformanceModel capability; footprint and memory from TorchResources) ----

    def timed_generate(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, clock: Clock, *, seed: int = 0
    ) -> TimedRun:
        prompts = self.timing_prompts(batch_size, prompt_tokens, new_tokens, seed=seed)
        return hf_perf.timed_generate(
            self.model,
            prompts,
            new_tokens,
            clock,
            config=hf_perf.exact_greedy_config(
                new_tokens, pad_token_id=self.pad_token_id, eos_token_id=self.tokenizer.eos_token_id
            ),
        )


class _CompareAsItRuns(Exception):
    """The packing check cannot use a float32 reference of the weights."""


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def _chunks(items: list[PackedRow], size: int) -> Iterator[list[PackedRow]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def budget_batches(
    order: list[int], lengths: Sequence[int], batch_tokens: int, max_batch_size: int
) -> Iterator[list[int]]:
    """The indices in ``order`` (longest first) in consecutive groups, each as large as it can be
    with rows × its first (longest) row's ``lengths`` within ``batch_tokens`` and at most
    ``max_batch_size`` rows."""
    batch: list[int] = []
    for index in order:
        longest = lengths[batch[0]] if batch else lengths[index]
        if batch and ((len(batch) + 1) * longest > batch_tokens or len(batch) >= max_batch_size):
            yield batch
            batch = []
        batch.append(index)
    if batch:
        yield batch


def score_target(logprobs: torch.Tensor, target: Sequence[int]) -> Loglikelihood:
    """``target``'s log-likelihood from ``logprobs`` (one log-softmax row per target token):
    the sum of its tokens' log-probabilities (in float64), greedy when every token is its row's
    argmax."""
    ids = torch.tensor(target, device=logprobs.device)
    picked = logprobs.gather(-1, ids[:, None]).squeeze(-1)
    greedy = bool((logprobs.argmax(-1) == ids).all())
    return Loglikelihood(float(picked.double().sum()), greedy, len(target))
