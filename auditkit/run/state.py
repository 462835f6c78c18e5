"""What a run knows so far: one ``ModelState`` per model, shared by the run's rooms.

Planning creates the states, execution updates them as messages arrive, and assembling reads them;
each room changes only the fields it owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditkit.cache_keys import ModelFingerprint
from auditkit.models.spec import ModelSpec
from auditkit.results import ErrorInfo, ModelInfo
from auditkit.worker import ProbeOutcome

GpuReport = tuple[list[str], str | None, list[str]]
"""GPU names, CUDA version and compute capabilities, as a worker (or this process) sees them."""


@dataclass
class ModelState:
    """What the runner knows of one model so far."""

    spec: ModelSpec
    position: int
    fingerprint: ModelFingerprint
    result_keys: tuple[str | None, ...] = ()
    """Cache key of each probe's result on this model; empty without a cache."""
    info_key: str | None = None
    info: ModelInfo | None = None
    load_error: ErrorInfo | None = None
    outcomes: dict[int, tuple[ProbeOutcome, bool]] = field(default_factory=dict)
    """Probe index → (outcome, taken from the cache)."""
    pending: tuple[int, ...] = ()
    """Probe indexes handed to the current worker and not finished yet."""
    running: int | None = None
    loaded_here: bool = False
    """A worker of this run loaded the model (its info then replaces a cached one)."""
    finished: bool = False

    def result_key(self, index: int) -> str | None:
        """The cache key of probe ``index``'s result, or ``None`` when it cannot be cached."""
        return self.result_keys[index] if index < len(self.result_keys) else None


@dataclass
class RunState:
    """Every model's state, plus what the run gathered across models."""

    models: dict[str, ModelState] = field(default_factory=dict)
    """Model id → state, filled by planning."""
    error_log: list[str] = field(default_factory=list)
    """One entry per error row: where it happened and its traceback, for ``errors.log``."""
    worker_gpus: GpuReport | None = None
    """The GPUs the first worker that loaded a model on one reported."""

    def ordered(self) -> list[ModelState]:
        """The states in suite order."""
        return sorted(self.models.values(), key=lambda s: s.position)
