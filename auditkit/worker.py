"""The work on one model, wherever it runs: load it, run probes on it, report every step.

The same ``run_model`` runs in the auditkit process (``isolation: none``), in a spawned worker
process (the default: a crash or an out-of-memory kill then takes down that model only, and the
process exit gives every byte of GPU memory back) or in a Ray task. Only the way messages travel
differs: a direct call, a pipe, or a Ray queue. Messages are small frozen dataclasses whose
fields are typed values, the results' own pydantic models among them (``Metric``, ``ErrorInfo``,
``ModelInfo``, ``SampleRecord``), all of which pickle, so any of those channels carries them.
Each is validated once, where the worker builds it; the runner alone turns messages into results,
progress lines and cache entries, and knows nothing of how a probe works.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from auditkit.cache_keys import HashHint, remember_hashes
from auditkit.probes.base import Probe, ProbeContext, Sample, probe_for
from auditkit.results import ErrorInfo, Metric, ModelInfo, Status
from auditkit.samples_schema import SampleRecord

if TYPE_CHECKING:
    from auditkit.models.loader import LoadedModel
    from auditkit.models.spec import ModelSpec
    from auditkit.suite import Suite


@dataclass(frozen=True)
class ModelWork:
    """One unit of work: load ``model_id`` and run the suite's probes at ``probe_indexes``."""

    model_id: str
    probe_indexes: tuple[int, ...]
    hash_hints: tuple[HashHint, ...] = ()


_RECORD_IDS = frozenset({"model_id", "probe_id"})
"""The fields of a ``SampleRecord`` that name where it ran, which a cached sample leaves out: a
result is reused under another model or probe id."""


@dataclass(frozen=True)
class ProbeOutcome:
    """What one probe produced on one model: its metrics and sample records, or its error."""

    seconds: float
    metrics: list[Metric] = field(default_factory=list)
    samples: list[SampleRecord] = field(default_factory=list)
    """One record per scored item, as ``samples.jsonl`` gets it."""
    error: ErrorInfo | None = None
    """Why the probe produced no result; ``None`` when it did."""
    trace: str = ""
    """The error's traceback, for ``errors.log``."""

    @property
    def status(self) -> Status:
        return "ok" if self.error is None else "error"

    def cache_value(self) -> dict[str, Any]:
        """The outcome as the result cache stores it: JSON data, samples without their ids.

        The layout is the cache's, unchanged since entries were first written (``from_cache``
        reads them all): metric dumps, sample fields in ``samples.jsonl`` order, seconds.
        """
        return {
            "metrics": [metric.model_dump(mode="json") for metric in self.metrics],
            # Python mode, as the line is written: a NaN score stays NaN, not null.
            "samples": [record.model_dump(exclude=set(_RECORD_IDS)) for record in self.samples],
            "seconds": self.seconds,
        }

    @classmethod
    def from_cache(cls, value: dict[str, Any], *, model_id: str, probe_id: str) -> ProbeOutcome:
        """A cached outcome, its samples recorded under ``model_id`` and ``probe_id``.

        Raises ``KeyError``, ``TypeError`` or ``ValueError`` (pydantic's ``ValidationError``
        is one) for an entry that is damaged or no longer matches the schema.
        """
        return cls(
            float(value["seconds"]),
            [Metric.model_validate(metric) for metric in value["metrics"]],
            [
                SampleRecord.model_validate({"model_id": model_id, "probe_id": probe_id, **sample})
                for sample in value["samples"]
            ],
        )


@dataclass(frozen=True)
class Started:
    """The worker is about to load the model."""


@dataclass(frozen=True)
class Loaded:
    info: ModelInfo
    gpus: list[str]
    """GPUs the worker saw (the auditkit process may never import torch)."""
    cuda: str | None
    capabilities: list[str] = field(default_factory=list)
    """Each of those GPUs' compute capability (``9.0``)."""


@dataclass(frozen=True)
class LoadFailed:
    error: ErrorInfo
    trace: str


@dataclass(frozen=True)
class ProbeStarted:
    index: int


@dataclass(frozen=True)
class ProbeFinished:
    index: int
    outcome: ProbeOutcome


@dataclass(frozen=True)
class Progress:
    event: Literal["total", "advance"]
    steps: int


@dataclass(frozen=True)
class Done:
    """The worker finished its unit (whatever the outcome of each probe)."""


@dataclass(frozen=True)
class WorkerDied:
    """Sent by an executor, not a worker: the worker ended before ``Done``."""

    reason: str


Message = (
    Started | Loaded | LoadFailed | ProbeStarted | ProbeFinished | Progress | Done | WorkerDied
)
Emit = Callable[[Message], None]
Loader = Callable[["ModelSpec", str], "LoadedModel"]


def seed_everything(seed: int) -> None:
    """Seed every random generator a probe might use, so reruns give the same results.

    numpy's global generator takes seeds below 2**32 and torch's below 2**64: larger or negative
    suite seeds are folded into those ranges rather than failing.
    """
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed % 2**63)


def error_info(exc: BaseException, stage: Literal["load", "probe"]) -> ErrorInfo:
    """The exception's class and the first line of its message."""
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return ErrorInfo(type=type(exc).__name__, message=message[:500], stage=stage)


def format_trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def sample_data(sample: Sample) -> dict[str, Any]:
    """A sample as the JSON data written to ``samples.jsonl`` (non-JSON values as text), so that
    a cached sample and a fresh one give the same line."""
    data: dict[str, Any] = json.loads(json.dumps(asdict(sample), ensure_ascii=False, default=str))
    return data


def sample_record(sample: Sample, model_id: str, probe_id: str) -> SampleRecord:
    """A probe's sample as its ``samples.jsonl`` record (``ValueError`` when it is not one)."""
    return SampleRecord.model_validate(
        {"model_id": model_id, "probe_id": probe_id, **sample_data(sample)}
    )


def _default_loader(spec: ModelSpec, device: str) -> LoadedModel:
    # Looked up at call time, so that a plugin may wrap the loader (tests use this).
    from auditkit.models import loader

    return loader.load_model(spec, device)


def run_model(
    suite: Suite, work: ModelWork, emit: Emit, *, device: str, load: Loader | None = None
) -> None:
    """Load the model of ``work`` and run its probes, reporting through ``emit``.

    A load failure and a probe's exception are reported, not raised (``BaseException``s such as
    ``KeyboardInterrupt`` still are): the caller decides what an error means for the audit.
    """
    remember_hashes(work.hash_hints)
    spec = suite.model(work.model_id)
    emit(Started())
    try:
        loaded = (load or _default_loader)(spec, device)
    except Exception as exc:  # any load failure is an error row for this model
        emit(LoadFailed(error_info(exc, "load"), format_trace(exc)))
        return
    emit(Loaded(loaded.info, *_gpus()))
    try:
        for index in work.probe_indexes:
            emit(ProbeStarted(index))
            probe = probe_for(suite.probes[index])
            emit(ProbeFinished(index, run_probe(probe, loaded, work.model_id, suite.seed, emit)))
    finally:
        loaded.close()


def run_probe(
    probe: Probe[Any], loaded: LoadedModel, model_id: str, seed: int, emit: Emit
) -> ProbeOutcome:
    context = ProbeContext(
        engine=loaded.engine,
        model_id=model_id,
        seed=seed,
        set_total=lambda steps: emit(Progress("total", steps)),
        advance=lambda steps: emit(Progress("advance", steps)),
        model_info=loaded.info,
    )
    started = time.perf_counter()
    try:
        seed_everything(seed)
        output = probe.run(context)
        seconds = time.perf_counter() - started
        # Inside the try: a sample that is no ``samples.jsonl`` record is this probe's error.
        samples = [sample_record(sample, model_id, probe.spec.id) for sample in output.samples]
    except Exception as exc:  # a probe crash is an error row, not the end of the audit
        return ProbeOutcome(
            time.perf_counter() - started,
            error=error_info(exc, "probe"),
            trace=format_trace(exc),
        )
    return ProbeOutcome(seconds, metrics=list(output.metrics), samples=samples)


def local_gpus() -> tuple[list[str], str | None, list[str]]:
    """GPU names, CUDA version and compute capabilities as torch sees them (importing torch)."""
    try:
        import torch  # noqa: F401  # imported so that _gpus() can ask it
    except ImportError:
        return [], None, []
    return _gpus()


def _gpus() -> tuple[list[str], str | None, list[str]]:
    """What ``local_gpus`` says, without importing torch (nothing when it is not imported)."""
    from auditkit.environment import gpu_capabilities

    if "torch" not in sys.modules:
        return [], None, []
    import torch

    if not torch.cuda.is_available():
        return [], None, []
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return names, torch.version.cuda, gpu_capabilities()


# --- running in another process -------------------------------------------------------------


@dataclass(frozen=True)
class WorkerRequest:
    """Everything a fresh process needs to redo the parent's set-up and run one ``ModelWork``.

    The suite travels as its path (and is read again, checked against its sha256): a suite
    object's class is built at run time from the registered probes, so it does not pickle.
    """

    suite_path: str
    suite_sha256: str
    device: str
    work: ModelWork
    modules: tuple[str, ...]
    """Modules that register the probe kinds in use (plugins included), imported first."""


def request_for(suite: Suite, work: ModelWork, device: str) -> WorkerRequest:
    from auditkit.probes.base import PROBES

    kinds = {spec.kind for spec in suite.probes}
    modules = tuple(sorted({PROBES[kind].__module__ for kind in kinds} - {"__main__"}))
    return WorkerRequest(str(suite.path.resolve()), suite.sha256, device, work, modules)


def _suite_for(request: WorkerRequest) -> Suite:
    from auditkit.library_logs import quiet_library_logs
    from auditkit.plugins import import_modules, load_plugins
    from auditkit.suite import load_suite

    quiet_library_logs()
    load_plugins()
    import_modules(list(request.modules), origin="worker")
    suite = load_suite(Path(request.suite_path), check_data=False)
    if suite.sha256 != request.suite_sha256:
        raise RuntimeError(f"{request.suite_path} changed while the audit was running")
    return suite


def serve(request: WorkerRequest, emit: Emit) -> None:
    """Run one request and end with ``Done``; set-up failures are reported as load failures."""
    try:
        suite = _suite_for(request)
    except Exception as exc:
        emit(Started())
        emit(LoadFailed(error_info(exc, "load"), format_trace(exc)))
    else:
        run_model(suite, request.work, emit, device=request.device)
    emit(Done())


def process_main(request: WorkerRequest, conn: multiprocessing.connection.Connection) -> None:
    """Entry point of a spawned worker process: messages go back through ``conn``."""
    _exit_with_parent()
    try:
        serve(request, conn.send)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the parent handles it
        pass
    finally:
        conn.close()


def _exit_with_parent() -> None:
    """End this worker when the auditkit process dies (killed with -9, say): an orphan would hold
    GPU memory and keep computing results nobody receives."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="auditkit-parent-watch", daemon=True).start()
