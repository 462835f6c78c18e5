"""Text to token ids for causal language models, as lm-eval's Hugging Face backend makes them.

Shared by every runtime that reads a transformers tokenizer (PyTorch and ONNX Runtime alike), so a
variant's scores never differ by tokenisation. Trailing context spaces move to the continuation;
the pair is encoded whole and split at the context's length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import PreTrainedTokenizerBase

from auditkit.engine.base import Loglikelihood, LoglikelihoodRequest, ProgressCallback
from auditkit.engine.hf_perf import ordinary_token_ids, synthetic_prompts
from auditkit.engine.hf_stop import TokenTexts

DEFAULT_MAX_LENGTH = 2048


def config_max_length(config: object) -> int:
    """The longest sequence a transformers configuration admits (its position limit), else
    ``DEFAULT_MAX_LENGTH``."""
    for attr in ("max_position_embeddings", "n_positions", "n_ctx"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_MAX_LENGTH


class Tokenization:
    """Tokenisation, chat formatting and stop-string candidates over one tokenizer, and what
    follows from tokenisation alone (rolling windows, timing prompts). A runtime's engine
    subclasses it and supplies ``max_length`` and ``loglikelihood_tokens``."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.tokenizer = tokenizer
        pad = tokenizer.pad_token_id
        self.pad_token_id: int = pad if pad is not None else (tokenizer.eos_token_id or 0)
        self._token_texts: TokenTexts | None = None
        self._ordinary_ids: torch.Tensor | None = None

    @property
    def prefix_token_id(self) -> int:
        """Token that stands for an empty context (lm-eval's choice: BOS, else EOS)."""
        bos = self.tokenizer.bos_token_id
        return bos if bos is not None else int(self.tokenizer.eos_token_id or 0)

    def encode(self, text: str) -> list[int]:
        """Token ids as lm-eval's HF backend makes them (tokenizer's default special tokens)."""
        bos = self.tokenizer.bos_token
        add_special = None if not (bos and text.startswith(bos)) else False
        kwargs = {} if add_special is None else {"add_special_tokens": add_special}
        return list(self.tokenizer.encode(text, **kwargs))

    def encode_pair(
        self,
        context: str,
        continuation: str,
        encode_context: Callable[[str], list[int]] | None = None,
    ) -> tuple[list[int], list[int]]:
        """lm-eval's split: encode context + continuation whole, cut at the context's length.

        ``encode_context`` may replace ``encode`` for the context alone (a cache, for many
        continuations of one context)."""
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
        context_ids = (encode_context or self.encode)(context)
        return context_ids, whole[len(context_ids) :]

    def encode_pairs(
        self, requests: Sequence[LoglikelihoodRequest]
    ) -> list[tuple[list[int], list[int]]]:
        """``encode_pair`` for every request, encoding each distinct context once."""
        contexts: dict[str, list[int]] = {}

        def encode_context(text: str) -> list[int]:
            ids = contexts.get(text)
            if ids is None:
                ids = contexts[text] = self.encode(text)
            return ids

        return [self.encode_pair(r.context, r.continuation, encode_context) for r in requests]

    @property
    def max_length(self) -> int:
        """Longest token sequence the model accepts (the engine knows it)."""
        raise NotImplementedError

    def loglikelihood_tokens(
        self,
        pairs: Sequence[tuple[list[int], list[int]]],
        progress: ProgressCallback | None = None,
    ) -> list[Loglikelihood]:
        """Score token-level (context, continuation) pairs (the engine's forward pass)."""
        raise NotImplementedError

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        """Whole-text log-likelihood in disjoint ``max_length`` windows (lm-eval's rule)."""
        totals = []
        for text in texts:
            pairs = rolling_pairs(self.prefix_token_id, self.rolling_tokens(text), self.max_length)
            totals.append(sum(r.logprob for r in self.loglikelihood_tokens(pairs)))
            if progress:
                progress(1)
        return totals

    def rolling_tokens(self, text: str) -> list[int]:
        """The tokens of ``text`` that rolling log-likelihood predicts (BOS is the prefix)."""
        tokens = self.encode(text)
        if tokens and tokens[0] == self.prefix_token_id:
            # A tokenizer that adds BOS itself: the prefix token already stands for it.
            tokens = tokens[1:]
        return tokens

    def format_chat(self, user_message: str) -> str:
        """The prompt for one user turn, in the tokenizer's chat template when it has one."""
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": user_message}],
                tokenize=False,
                add_generation_prompt=True,
            )
            return str(text)
        return user_message

    def timing_prompts(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, *, seed: int
    ) -> torch.Tensor:
        """The seeded synthetic prompts of a timed run (``PerformanceModel.timed_generate``):
        ``batch_size`` × ``prompt_tokens`` ordinary token ids, checked to leave room for
        ``new_tokens`` in the model's window."""
        if prompt_tokens < 1 or new_tokens < 1 or batch_size < 1:
            raise ValueError("batch size, prompt tokens and new tokens must be positive")
        if prompt_tokens + new_tokens > self.max_length:
            raise ValueError(
                f"{prompt_tokens} prompt + {new_tokens} new tokens exceed the model's window of "
                f"{self.max_length} tokens"
            )
        if self._ordinary_ids is None:
            self._ordinary_ids = ordinary_token_ids(self.tokenizer)
        return synthetic_prompts(self._ordinary_ids, batch_size, prompt_tokens, seed)

    def stop_candidates(self, stop: tuple[str, ...]) -> frozenset[int]:
        """Token ids whose arrival can complete one of the ``stop`` strings."""
        if self._token_texts is None:
            self._token_texts = TokenTexts(self.tokenizer)
        return self._token_texts.candidates(stop)


def rolling_pairs(
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
