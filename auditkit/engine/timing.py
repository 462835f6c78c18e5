"""Clocks for latency measurements, and the record of one timed generation.

Every measurement reads time through a ``Clock``, so tests can inject a scripted one and get exact
numbers. ``sync()`` waits until the device has finished all queued work: on a CPU it does
nothing; on a CUDA device kernels run asynchronously, and a timestamp taken without waiting would
measure only how long it took to *queue* the work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol


class Clock(Protocol):
    """A monotonic clock in seconds, with a hook that waits for the device."""

    def now(self) -> float:
        """Seconds since an arbitrary fixed origin, after all work queued so far has finished."""
        ...

    def sync(self) -> None:
        """Block until the device has finished all queued work."""
        ...


class PerfCounterClock:
    """The host's high-resolution monotonic clock (``time.perf_counter``); nothing to wait for."""

    def now(self) -> float:
        return time.perf_counter()

    def sync(self) -> None:
        return None


class ManualClock:
    """A clock that only moves when told to: for simulated engines and for tests."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sync(self) -> None:
        return None

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self._now += seconds


class CudaEventClock:
    """GPU-timeline time from CUDA events.

    ``now()`` records an event on the current stream, waits for it, and returns the time elapsed
    since the clock's origin event (CUDA events resolve about half a microsecond). Waiting makes
    every timestamp mark the moment all previously queued kernels finished.
    """

    def __init__(self, device: Any = None) -> None:
        import torch

        self._torch = torch
        self._device = device
        torch.cuda.synchronize(device)
        self._origin = torch.cuda.Event(enable_timing=True)
        self._origin.record()
        self._origin.synchronize()

    def now(self) -> float:
        event = self._torch.cuda.Event(enable_timing=True)
        event.record()
        event.synchronize()
        return float(self._origin.elapsed_time(event)) / 1000.0

    def sync(self) -> None:
        self._torch.cuda.synchronize(self._device)


@dataclass(frozen=True)
class TimedRun:
    """One timed greedy generation of exactly ``new_tokens`` tokens for a batch of prompts."""

    batch_size: int
    prompt_tokens: int
    new_tokens: int
    prefill_seconds: float
    """From the start of the call until the logits of the first new token exist (the forward
    pass over the whole prompt batch): time to first token."""
    total_seconds: float
    """From the start of the call until all ``new_tokens`` tokens of every row exist."""

    @property
    def decode_seconds(self) -> float:
        """Time spent on the ``new_tokens - 1`` tokens after the first."""
        return self.total_seconds - self.prefill_seconds
