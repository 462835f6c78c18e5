"""Stop strings checked on token ids: decode a row only when its newest token could end one.

A stop string can only newly appear in a row's generated text at a step whose new token's text
ends that occurrence. So the text of every vocabulary token is read once per tokenizer, and a
token is a *candidate* for a set of stop strings when its text contains one of them or a
non-empty start of its text is the end of one (``"\\n"`` or ``"\\nQ"`` for the stop string
``"\\n\\nQ"``), or when its text holds a replacement character (a partial UTF-8 sequence, which
decodes differently once the next bytes arrive). Only at a candidate does the row's generated text
get decoded, and the check on that text is the exact one: does it contain a stop string? The
result is therefore the same as decoding every row at every step, at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import PreTrainedTokenizerBase, StoppingCriteria

REPLACEMENT_CHARACTER = "\ufffd"


class TokenTexts:
    """The decoded text of every token id of a tokenizer, alone and after another token.

    Some tokenizers drop a token's leading space when it starts the decoded text; the text after
    an anchor token keeps it, so both are kept and a token is a candidate if either qualifies.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        size = len(tokenizer)
        alone = tokenizer.batch_decode([[i] for i in range(size)], skip_special_tokens=True)
        anchor_ids = tokenizer.encode("a", add_special_tokens=False)[:1] or [0]
        anchor = str(tokenizer.decode(anchor_ids, skip_special_tokens=True))
        after = tokenizer.batch_decode(
            [[*anchor_ids, i] for i in range(size)], skip_special_tokens=True
        )
        self.texts: list[tuple[str, ...]] = []
        self.always: set[int] = set()
        """Tokens whose text after the anchor is not the anchor's text plus their own: always
        candidates."""
        for token, (single, paired) in enumerate(zip(alone, after, strict=True)):
            if not paired.startswith(anchor):
                self.always.add(token)
            contribution = paired[len(anchor) :]
            self.texts.append((single,) if contribution == single else (single, contribution))
        self._candidates: dict[tuple[str, ...], frozenset[int]] = {}

    def candidates(self, stop: tuple[str, ...]) -> frozenset[int]:
        """Token ids whose arrival can complete one of the ``stop`` strings."""
        found = self._candidates.get(stop)
        if found is None:
            markers = [s for s in stop if s]
            found = frozenset(
                token
                for token, texts in enumerate(self.texts)
                if token in self.always or any(_may_end(text, markers) for text in texts)
            )
            self._candidates[stop] = found
        return found


def _may_end(text: str, stop: Sequence[str]) -> bool:
    """Whether an occurrence of a ``stop`` string can end inside ``text``."""
    if REPLACEMENT_CHARACTER in text:
        return True
    for marker in stop:
        if marker in text:
            return True
        longest = min(len(text), len(marker) - 1)
        if any(marker.endswith(text[:end]) for end in range(1, longest + 1)):
            return True
    return False


class StopInNewText(StoppingCriteria):
    """Stopping criterion: a row is done once its *generated* text contains a stop string.

    transformers' own ``stop_strings`` also match across the prompt boundary, which ends a
    generation early when the prompt's tail and the first new token form a stop string.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        prompt_width: int,
        stop: tuple[str, ...],
        candidates: frozenset[int],
    ) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.prompt_width = prompt_width
        self.stop = stop
        self.candidates = candidates
        self.decodes = 0
        """Rows decoded so far (for tests and benchmarks)."""
        self._done: list[bool] | None = None

    def __call__(
        self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any
    ) -> torch.Tensor:
        if self._done is None:
            self._done = [False] * input_ids.shape[0]
        for row, token in enumerate(input_ids[:, -1].tolist()):
            if not self._done[row] and token in self.candidates:
                self.decodes += 1
                text = self.tokenizer.decode(
                    input_ids[row, self.prompt_width :], skip_special_tokens=True
                )
                self._done[row] = any(marker in text for marker in self.stop if marker)
        return torch.tensor(self._done, dtype=torch.bool, device=input_ids.device)
