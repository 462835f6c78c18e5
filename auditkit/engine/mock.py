"""A deterministic fake language model, for dry runs of suites and for fast tests.

It has no weights. Scores depend only on the text, so the same requests always give the same
numbers. ``mock:shortest`` prefers the shortest continuation; ``mock:longest`` the longest;
``mock:abstain`` answers every prompt with "I don't know."; ``mock:echo`` repeats the prompt's
last line.

Its speed is simulated: on its own clock (a ``ManualClock``) a prefill costs
``PREFILL_SECONDS + PREFILL_SECONDS_PER_TOKEN × batch × prompt tokens`` and every later token
``DECODE_SECONDS + DECODE_SECONDS_PER_ROW × batch``, so dry runs of the speed probes give
deterministic numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditkit.engine.base import (
    DeviceMemory,
    DeviceOutOfMemory,
    Footprint,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    ProgressCallback,
    cut_at_stop,
)
from auditkit.engine.sampling import SamplingRequest
from auditkit.engine.timing import Clock, ManualClock, TimedRun

MOCK_BEHAVIOURS = ("shortest", "longest", "abstain", "echo")
MOCK_VARIANT_SEPARATOR = "||"
"""Separates the scripted variants of one reply that ``sample`` cycles through."""
PREFILL_SECONDS = 0.002
PREFILL_SECONDS_PER_TOKEN = 1e-5
DECODE_SECONDS = 0.004
DECODE_SECONDS_PER_ROW = 1e-4


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
        max_batch_size: int | None = None,
    ) -> None:
        """``max_batch_size``: larger generation batches raise ``DeviceOutOfMemory`` (to rehearse
        out-of-memory handling)."""
        if behaviour not in MOCK_BEHAVIOURS:
            raise ValueError(
                f"unknown mock behaviour {behaviour!r}; choose one of {', '.join(MOCK_BEHAVIOURS)}"
            )
        self.behaviour = behaviour
        self.replies = dict(replies or {})
        self._max_length = max_length
        self.max_batch_size = max_batch_size

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

    def sample(
        self, requests: Sequence[SamplingRequest], progress: ProgressCallback | None = None
    ) -> list[list[str]]:
        """The scripted reply, where ``||`` separates variants: sample ``j`` is variant
        ``j mod (number of variants)``, so tests can script (dis)agreeing samples exactly."""
        results = []
        for request in requests:
            (reply,) = self.generate([GenerationRequest(request.prompt, request.max_new_tokens)])
            variants = reply.split(MOCK_VARIANT_SEPARATOR)
            results.append(
                [cut_at_stop(variants[j % len(variants)], request.stop) for j in range(request.n)]
            )
            if progress:
                progress(1)
        return results

    # -- simulated speed and footprint (the PerformanceModel capability) -----------------------

    def clock(self) -> Clock:
        return ManualClock()

    def timed_generate(
        self, batch_size: int, prompt_tokens: int, new_tokens: int, clock: Clock, *, seed: int = 0
    ) -> TimedRun:
        """Reads ``clock`` at the start, after the prefill and at the end; a ``ManualClock`` is
        advanced by the simulated costs in between."""
        if self.max_batch_size is not None and batch_size > self.max_batch_size:
            raise DeviceOutOfMemory(f"mock: batch {batch_size} > {self.max_batch_size}")
        manual = clock if isinstance(clock, ManualClock) else None
        clock.sync()
        start = clock.now()
        if manual:
            manual.advance(PREFILL_SECONDS + PREFILL_SECONDS_PER_TOKEN * batch_size * prompt_tokens)
        clock.sync()
        first = clock.now()
        if manual:
            step = DECODE_SECONDS + DECODE_SECONDS_PER_ROW * batch_size
            manual.advance(step * (new_tokens - 1))
        clock.sync()
        end = clock.now()
        return TimedRun(batch_size, prompt_tokens, new_tokens, first - start, end - start)

    def footprint(self) -> Footprint:
        return Footprint(
            parameters=0,
            parameter_bytes={},
            buffer_bytes=0,
            device="cpu",
            device_name="mock",
            dtype="none",
            bytes_on_disk=0,
        )

    def reset_peak_memory(self) -> None:
        return None

    def peak_memory(self) -> DeviceMemory:
        return DeviceMemory()

    def energy_joules(self) -> float | None:
        return None
