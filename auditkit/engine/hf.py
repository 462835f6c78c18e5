"""Batched scoring and greedy generation for transformers causal language models.

Tokenisation follows lm-eval's Hugging Face backend exactly (trailing context spaces move to the
continuation; the pair is encoded whole and split at the context's length), so the numbers equal
lm-eval's for the same model and data.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import (
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)

from auditkit.engine.base import (
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
    cut_at_stop,
)

DEFAULT_MAX_LENGTH = 2048


class HFCausalLM:
    """A ``LanguageModel`` over a loaded transformers model and its tokenizer."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        batch_tokens: int = 8192,
        max_batch_size: int = 64,
        generation_batch_size: int = 16,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._name = name
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self.generation_batch_size = generation_batch_size
        self.device = next(model.parameters()).device
        forward = inspect.signature(model.forward).parameters
        self._takes_position_ids = "position_ids" in forward
        self._takes_logits_to_keep = "logits_to_keep" in forward
        pad = tokenizer.pad_token_id
        self.pad_token_id: int = pad if pad is not None else (tokenizer.eos_token_id or 0)

    @property
    def name(self) -> str:
        return self._name

    @property
    def max_length(self) -> int:
        config = self.model.config
        for attr in ("max_position_embeddings", "n_positions", "n_ctx"):
            value = getattr(config, attr, None)
            if isinstance(value, int) and value > 0:
                return value
        return DEFAULT_MAX_LENGTH

    @property
    def prefix_token_id(self) -> int:
        """Token that stands for an empty context (lm-eval's choice: BOS, else EOS)."""
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else int(self.tokenizer.eos_token_id or 0)

    # -- tokenisation -------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """Token ids as lm-eval's HF backend makes them (tokenizer's default special tokens)."""
        bos = self.tokenizer.bos_token
        add_special = None if not (bos and text.startswith(bos)) else False
        kwargs = {} if add_special is None else {"add_special_tokens": add_special}
        return list(self.tokenizer.encode(text, **kwargs))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        if not context:
            continuation_ids = self.encode(continuation)
            if continuation_ids and continuation_ids[0] == self.prefix_token_id:
                return continuation_ids[:1], continuation_ids[1:]
            return [self.prefix_token_id], continuation_ids
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.encode(context + continuation)
        context_ids = self.encode(context)
        return context_ids, whole[len(context_ids) :]

    # -- scoring ------------------------------------------------------------------------------

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        pairs = [self.encode_pair(r.context, r.continuation) for r in requests]
        return self.loglikelihood_tokens(pairs, progress)

    def loglikelihood_tokens(
        self, pairs: Sequence[tuple[list[int], list[int]]], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        """Score token-level (context, continuation) pairs: the work behind ``loglikelihood``."""
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
            for batch in self._batches(order, [len(t) - 1 for t, _ in rows]):
                inputs = [rows[i][0][:-1] for i in batch]
                targets = [rows[i][0][-rows[i][1] :] for i in batch]
                logprobs = self._continuation_logprobs(inputs, [len(t) for t in targets])
                for i, row_logprobs, target in zip(batch, logprobs, targets, strict=True):
                    target_ids = torch.tensor(target, device=row_logprobs.device)
                    picked = row_logprobs.gather(-1, target_ids[:, None]).squeeze(-1)
                    greedy = bool((row_logprobs.argmax(-1) == target_ids).all())
                    results[i] = Loglikelihood(float(picked.sum()), greedy, len(target))
                if progress:
                    progress(len(batch))
        return [r for r in results if r is not None]

    def _batches(self, order: list[int], lengths: list[int]) -> Iterator[list[int]]:
        """Group indices, longest first, so that rows × longest row fits the token budget."""
        batch: list[int] = []
        for index in order:
            longest = lengths[batch[0]] if batch else lengths[index]
            if batch and (
                (len(batch) + 1) * longest > self.batch_tokens or len(batch) >= self.max_batch_size
            ):
                yield batch
                batch = []
            batch.append(index)
        if batch:
            yield batch

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
        if self._takes_logits_to_keep:
            batch["logits_to_keep"] = keep
        logits = self.model(**batch).logits[:, -keep:, :]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        return [logprobs[row, keep - n :, :] for row, n in enumerate(target_lengths)]

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        """Whole-text log-likelihood in disjoint ``max_length`` windows (lm-eval's rule)."""
        totals = []
        for text in texts:
            pairs = _rolling_pairs(self.prefix_token_id, self.encode(text), self.max_length)
            totals.append(sum(r.logprob for r in self.loglikelihood_tokens(pairs)))
            if progress:
                progress(1)
        return totals

    # -- generation ---------------------------------------------------------------------------

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        outputs: list[str | None] = [None] * len(requests)
        encoded = [self.encode(r.prompt) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: -len(encoded[i]))
        size = self.generation_batch_size
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            # One generate() call per distinct (max_new_tokens, stop) setting in the chunk.
            groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
            for i in chunk:
                groups.setdefault((requests[i].max_new_tokens, requests[i].stop), []).append(i)
            for (max_new_tokens, stop), members in groups.items():
                prompt_ids = [encoded[i][-(self.max_length - max_new_tokens) :] for i in members]
                batch = self._left_padded(prompt_ids)
                batch.pop("position_ids", None)  # generate() derives them from the mask
                config = GenerationConfig(
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.pad_token_id,
                    eos_token_id=self.tokenizer.eos_token_id,
                )
                width = batch["input_ids"].shape[1]
                criteria = StoppingCriteriaList(
                    [_StopInNewText(self.tokenizer, width, stop)] if stop else []
                )
                with torch.inference_mode():
                    generated = self.model.generate(
                        **batch, generation_config=config, stopping_criteria=criteria
                    )
                new_tokens = generated[:, batch["input_ids"].shape[1] :].tolist()
                texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for i, text in zip(members, texts, strict=True):
                    outputs[i] = cut_at_stop(text, stop)
            if progress:
                progress(len(chunk))
        return [o if o is not None else "" for o in outputs]

    def format_chat(self, user_message: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": user_message}],
                tokenize=False,
                add_generation_prompt=True,
            )
            return str(text)
        return user_message


def _rolling_pairs(
    prefix_token_id: int, tokens: list[int], window: int
) -> list[tuple[list[int], list[int]]]:
    """Disjoint windows of at most ``window`` tokens, each conditioned on what precedes it.

    Every token is predicted exactly once, with as many preceding tokens as fit in the model's
    window (the prefix token before the first one), which is lm-eval's rolling rule.
    """
    pairs = []
    for start in range(0, len(tokens), window):
        context = [prefix_token_id, *tokens[:start]][-window:]
        pairs.append((context, tokens[start : start + window]))
    return pairs


class _StopInNewText(StoppingCriteria):
    """Stopping criterion: a row is done once its *generated* text contains a stop string.

    transformers' own ``stop_strings`` also match across the prompt boundary, which ends a
    generation early when the prompt's tail and the first new token form a stop string.
    """

    def __init__(
        self, tokenizer: PreTrainedTokenizerBase, prompt_width: int, stop: tuple[str, ...]
    ):
        super().__init__()
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        self.stop = stop

    def __call__(
        self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any
    ) -> torch.Tensor:
        texts = self.tokenizer.batch_decode(
            input_ids[:, self.prompt_width :], skip_special_tokens=True
        )
        done = [any(marker in text for marker in self.stop) for text in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
