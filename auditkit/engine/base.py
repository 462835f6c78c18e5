"""The interface between probes and models.

Like lm-eval's ``LM``, it has a few batched methods that take a list of requests. Every backend
(transformers, the deterministic mock, later ONNX Runtime or GGUF runtimes) fits behind it, and
probes never see anything else of a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

ProgressCallback = Callable[[int], None]
"""Called with the number of requests just finished."""


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """Score ``continuation`` as the text that follows ``context``."""

    context: str
    continuation: str


@dataclass(frozen=True)
class Loglikelihood:
    logprob: float
    """Sum of the natural-log probabilities of the continuation's tokens."""
    is_greedy: bool
    """Whether greedy decoding from the context would produce exactly the continuation's tokens."""
    n_tokens: int
    """Number of continuation tokens scored."""


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    max_new_tokens: int = 64
    stop: tuple[str, ...] = ()
    """Generation ends at the first of these strings; it is not part of the returned text."""


class LanguageModel(Protocol):
    """What probes may ask of a causal language model."""

    @property
    def name(self) -> str: ...

    @property
    def max_length(self) -> int:
        """Longest token sequence the model accepts."""
        ...

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]: ...

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        """Log-likelihood of each whole text (for perplexity), in windows of ``max_length``."""
        ...

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        """Greedy continuations of each prompt, cut at the first stop string."""
        ...

    def format_chat(self, user_message: str) -> str:
        """The prompt text for a single user turn, in the model's chat template if it has one."""
        ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest of the ``stop`` strings."""
    cut = len(text)
    for marker in stop:
        if marker:
            found = text.find(marker)
            if found != -1:
                cut = min(cut, found)
    return text[:cut]
