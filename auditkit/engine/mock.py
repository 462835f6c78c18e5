"""A deterministic fake language model, for dry runs of suites and for fast tests.

It has no weights. Scores depend only on the text, so the same requests always give the same
numbers. ``mock:shortest`` prefers the shortest continuation; ``mock:longest`` the longest;
``mock:abstain`` answers every prompt with "I don't know."; ``mock:echo`` repeats the prompt's
last line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditkit.engine.base import (
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
    cut_at_stop,
)

MOCK_BEHAVIOURS = ("shortest", "longest", "abstain", "echo")


class MockModel:
    """A scripted, deterministic ``LanguageModel``.

    ``replies`` maps a prompt substring to the reply to generate; a continuation equal to the
    reply for its context scores 0.0 (certain). Other continuations score by length: each
    character costs 1 nat (``shortest``) or earns 1 nat below a floor (``longest``).
    """

    def __init__(
        self,
        behaviour: str = "shortest",
        replies: Mapping[str, str] | None = None,
        max_length: int = 2048,
    ) -> None:
        if behaviour not in MOCK_BEHAVIOURS:
            raise ValueError(
                f"unknown mock behaviour {behaviour!r}; choose one of {', '.join(MOCK_BEHAVIOURS)}"
            )
        self.behaviour = behaviour
        self.replies = dict(replies or {})
        self._max_length = max_length

    @property
    def name(self) -> str:
        return f"mock:{self.behaviour}"

    @property
    def max_length(self) -> int:
        return self._max_length

    def _reply_for(self, prompt: str) -> str | None:
        return next((reply for key, reply in self.replies.items() if key in prompt), None)

    def _score(self, request: LoglikelihoodRequest) -> float:
        if self._reply_for(request.context) == request.continuation.strip():
            return 0.0
        length = len(request.continuation)
        return -float(length) if self.behaviour != "longest" else -1000.0 + float(length)

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], progress: ProgressCallback | None = None
    ) -> list[Loglikelihood]:
        results = []
        for request in requests:
            logprob = self._score(request)
            n_tokens = max(1, len(request.continuation.split()))
            results.append(Loglikelihood(logprob, logprob == 0.0, n_tokens))
        if progress:
            progress(len(requests))
        return results

    def loglikelihood_rolling(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[float]:
        if progress:
            progress(len(texts))
        return [-float(len(text)) for text in texts]

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        outputs = []
        for request in requests:
            reply = self._reply_for(request.prompt)
            if reply is None:
                lines = request.prompt.strip().splitlines() or [""]
                reply = lines[-1] if self.behaviour == "echo" else "I don't know."
            outputs.append(cut_at_stop(reply, request.stop))
        if progress:
            progress(len(requests))
        return outputs

    def format_chat(self, user_message: str) -> str:
        return f"User: {user_message}\nAssistant:"
