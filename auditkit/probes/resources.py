"""``resources``: what the model costs to hold and to run: size, memory, throughput, energy.

Sizes are read from the loaded model. Memory, throughput and energy are measured on one fixed
synthetic workload at the largest batch size that fits: for a language model, greedy generation
of exactly ``new_tokens`` tokens from prompts of exactly ``prompt_tokens`` token ids (drawn from
the suite's seed); for a model of another task, its own call (classify, transcribe, detect) on
synthetic inputs of a fixed size (``BatchTimingModel.timed_batch``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Literal

import numpy as np
import psutil
from pydantic import Field, field_validator

from auditkit.engine.base import (
    BatchTimingModel,
    DeviceOutOfMemory,
    Footprint,
    PerformanceModel,
    TimedBatch,
)
from auditkit.engine.timing import Clock, TimedRun
from auditkit.probes.base import Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample, register_probe
from auditkit.probes.latency import performance_engine
from auditkit.results import Direction, Metric, ModelInfo, Unit
from auditkit.stats import BOOTSTRAP_RESAMPLES, bootstrap_interval
from auditkit.tasks import ALL_TASKS, ITEM_UNITS, Task

RSS_INTERVAL_SECONDS = 0.005


class ResourcesSpec(ProbeSpec):
    kind: Literal["resources"]
    batch_sizes: list[int] = Field(
        default_factory=lambda: [1, 8, 32],
        min_length=1,
        description="Batch sizes for the throughput workload; the largest that fits is used.",
    )
    prompt_tokens: int = Field(128, ge=1, description="Prompt length of the workload, in tokens.")
    new_tokens: int = Field(32, ge=1, description="Tokens generated per prompt (exactly).")
    warmup: int = Field(1, ge=0, description="Untimed runs before the timed ones.")
    runs: int = Field(3, ge=1, description="Timed runs of the workload.")

    @field_validator("batch_sizes")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if any(v < 1 for v in values):
            raise ValueError("every batch size must be at least 1")
        return values


@register_probe
class Resources(Probe[ResourcesSpec]):
    """Size, memory, throughput and energy of a model on its device.

    From the loaded model (no interval; ``n`` = 1):

    - ``parameters`` = number of parameter elements (quantized weights included). Descriptive.
    - ``parameter_bytes`` = bytes held by parameters; ``parameter_bytes/<dtype>`` the same per
      element type. Lower is better.
    - ``bytes_on_disk`` = size of the weight files the model was loaded from; only when the
      engine knows it. Lower is better.
    - ``load_seconds`` = wall time the loader took to read the weights and place them on the
      device. Lower is better. A GGUF file is de-quantized on its first load only, later loads
      read auditkit's converted copy (``auditkit.models.gguf_cache``): compare GGUF load times
      between runs that both converted, or both did not.

    From the workload (B = batch size used, N = ``new_tokens``, R = ``runs``, t_i = end-to-end
    time of timed run i). The workload starts at the largest of ``batch_sizes``; when the device
    runs out of memory it restarts at half the batch size, or at the next smaller listed size if
    that is larger; the sizes that did not fit are recorded in the sample.

    - ``throughput_batch_size`` = B. Descriptive.
    - ``throughput_samples_per_s`` = B × R / Σ t_i. Higher is better.
    - ``throughput_tokens_per_s`` = B × N × R / Σ t_i: generated tokens per second. Higher is
      better. Both with a 95% percentile bootstrap interval over runs (1000 resamples, seeded).
    - ``peak_rss_bytes`` = highest resident set size of this process (host memory), sampled every
      5 ms from the start of the workload to its end (``n`` = samples). Lower is better.
    - ``peak_gpu_allocated_bytes`` / ``peak_gpu_reserved_bytes`` = most accelerator memory held by
      tensors / by the framework's caching allocator during the workload; ``gpu_process_bytes`` =
      accelerator memory the driver reports for this process after it (NVML). Lower is better.
      Present only on an accelerator (and, for the last, with NVML).
    - ``energy_j_per_1k_tokens`` = 1000 × ΔE / (B × N × R), ΔE the accelerator's energy counter
      (NVML, joules) across the timed runs: the whole board's energy, idle share included. Lower
      is better. Present only where NVML gives the counter.

    For a model of another task (a classifier, a speech recogniser, an image model) the workload
    is its own call on B synthetic inputs (texts of 64 tokens, 5-second clips, images at the
    model's input size): ``throughput_samples_per_s`` = B × R / Σ t_i counts inputs (texts/s,
    images/s); a speech model adds ``throughput_audio_seconds_per_s`` = audio seconds processed
    per second of wall time (the inverse of the real-time factor); energy is
    ``energy_j_per_1k_samples``. There is no token count.

    The sample ``footprint`` records the device, its name, the dominant parameter dtype, bytes by
    dtype, and every run's times.
    """

    kind = "resources"
    charts = ("footprint",)  # the deployment view reads this probe's memory and size
    Spec = ResourcesSpec
    tasks = ALL_TASKS

    def __init__(self, spec: ResourcesSpec, clock: Clock | None = None) -> None:
        super().__init__(spec)
        self.clock = clock

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        engine = performance_engine(ctx.engine, self.kind)
        clock = self.clock if self.clock is not None else engine.clock()
        footprint = engine.footprint()
        ctx.set_total(self.spec.warmup + self.spec.runs)
        workload = self._workload(engine, clock, ctx)
        where = f"{footprint.device_name} ({footprint.device}, {footprint.dtype})"
        metrics = _footprint_metrics(footprint, ctx.model_info)
        task: Task = ctx.model_info.task if ctx.model_info else "text-generation"  # type: ignore[assignment]
        generates = isinstance(engine, PerformanceModel)
        if generates:
            metrics += _workload_metrics(workload, self.spec.new_tokens, where, seed=ctx.seed)
            workload_input = (
                f"{workload.batch_size} synthetic prompts of {self.spec.prompt_tokens} tokens"
            )
            workload_output = f"{self.spec.new_tokens} tokens each"
        else:
            metrics += _batch_workload_metrics(workload, task, where, seed=ctx.seed)
            workload_input = f"{workload.batch_size} synthetic inputs ({ITEM_UNITS[task]}s)"
            workload_output = ""
        sample = Sample(
            item_id="footprint",
            input=workload_input,
            output=workload_output,
            target="",
            scores={m.name: m.value for m in metrics if m.group is None},
            details={
                "device": footprint.device,
                "device_name": footprint.device_name,
                "dtype": footprint.dtype,
                "parameter_bytes": footprint.parameter_bytes,
                "buffer_bytes": footprint.buffer_bytes,
                "batch_size": workload.batch_size,
                "out_of_memory_batch_sizes": workload.out_of_memory,
                "total_seconds": [_seconds(r) for r in workload.runs],
            },
        )
        return ProbeOutput(metrics, [sample])

    def _workload(
        self, engine: PerformanceModel | BatchTimingModel, clock: Clock, ctx: ProbeContext
    ) -> Workload:
        listed = sorted(set(self.spec.batch_sizes))
        batch_size = listed[-1]
        failed: list[int] = []
        while True:
            try:
                workload = self._run_workload(engine, clock, batch_size, ctx)
            except DeviceOutOfMemory:
                failed.append(batch_size)
                if batch_size == 1:
                    raise
                smaller = [b for b in listed if b < batch_size]
                batch_size = max([batch_size // 2, *smaller])
                continue
            return replace(workload, out_of_memory=failed)

    def _run_workload(
        self,
        engine: PerformanceModel | BatchTimingModel,
        clock: Clock,
        batch_size: int,
        ctx: ProbeContext,
    ) -> Workload:
        def one_run() -> TimedRun | TimedBatch:
            if isinstance(engine, PerformanceModel):
                return engine.timed_generate(
                    batch_size, self.spec.prompt_tokens, self.spec.new_tokens, clock, seed=ctx.seed
                )
            return engine.timed_batch(batch_size, clock, seed=ctx.seed)

        engine.reset_peak_memory()
        with PeakRss() as rss:
            for _ in range(self.spec.warmup):
                one_run()
                ctx.advance(1)
            energy_start = engine.energy_joules()
            runs = []
            for _ in range(self.spec.runs):
                runs.append(one_run())
                ctx.advance(1)
            energy_end = engine.energy_joules()
        memory = engine.peak_memory()
        energy = None
        if energy_start is not None and energy_end is not None:
            energy = energy_end - energy_start
        return Workload(
            batch_size=batch_size,
            runs=runs,
            peak_rss_bytes=rss.peak,
            rss_samples=rss.samples,
            peak_gpu_allocated_bytes=memory.peak_allocated_bytes,
            peak_gpu_reserved_bytes=memory.peak_reserved_bytes,
            gpu_process_bytes=memory.process_bytes,
            energy_joules=energy,
        )


@dataclass(frozen=True)
class Workload:
    """The measured throughput workload."""

    batch_size: int
    runs: list[TimedRun | TimedBatch]
    peak_rss_bytes: int
    rss_samples: int
    peak_gpu_allocated_bytes: int | None
    peak_gpu_reserved_bytes: int | None
    gpu_process_bytes: int | None
    energy_joules: float | None
    out_of_memory: list[int] = field(default_factory=list)
    """Batch sizes that ran out of device memory first."""


def _seconds(run: TimedRun | TimedBatch) -> float:
    return run.total_seconds if isinstance(run, TimedRun) else run.seconds


class PeakRss:
    """Context manager: the highest resident set size of this process while it is open, sampled
    every ``interval`` seconds by a background thread (and once at entry and at exit)."""

    def __init__(self, interval: float = RSS_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _sample(self) -> None:
        self.peak = max(self.peak, int(self._process.memory_info().rss))
        self.samples += 1

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakRss:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _metric(
    name: str,
    value: float,
    direction: Direction,
    description: str,
    *,
    unit: Unit,
    n: int = 1,
    runs_interval: tuple[float, float] | None = None,
) -> Metric:
    """A measured number; ``runs_interval``: its percentile bootstrap interval over runs."""
    return Metric(
        name=name,
        value=value,
        ci_low=runs_interval[0] if runs_interval else None,
        ci_high=runs_interval[1] if runs_interval else None,
        n=n,
        direction=direction,
        interval="percentile-bootstrap-runs" if runs_interval else "none",
        interval_detail=f"{BOOTSTRAP_RESAMPLES} resamples" if runs_interval else None,
        description=description,
        unit=unit,
    )


def _footprint_metrics(footprint: Footprint, info: ModelInfo | None) -> list[Metric]:
    metrics = [
        _metric(
            "parameters",
            float(footprint.parameters),
            "none",
            "parameter elements",
            unit="parameters",
        ),
        _metric(
            "parameter_bytes",
            float(sum(footprint.parameter_bytes.values())),
            "lower",
            "bytes of parameters, all element types",
            unit="bytes",
        ),
    ]
    metrics += [
        _metric(
            f"parameter_bytes/{dtype}",
            float(size),
            "lower",
            f"bytes of {dtype} parameters",
            unit="bytes",
        )
        for dtype, size in footprint.parameter_bytes.items()
    ]
    if footprint.bytes_on_disk is not None:
        metrics.append(
            _metric(
                "bytes_on_disk",
                float(footprint.bytes_on_disk),
                "lower",
                "size of the weight files loaded",
                unit="bytes",
            )
        )
    if info is not None:
        metrics.append(
            _metric(
                "load_seconds",
                info.load_seconds,
                "lower",
                "wall time to load the model onto its device (cold start)",
                unit="seconds",
            )
        )
    return metrics


def _workload_metrics(
    workload: Workload, new_tokens: int, where: str, *, seed: int
) -> list[Metric]:
    runs = len(workload.runs)
    times = np.array([_seconds(r) for r in workload.runs])
    b = workload.batch_size
    rates: tuple[tuple[str, int, str, Unit], ...] = (
        ("samples", b, "prompts completed", "samples/s"),
        ("tokens", b * new_tokens, "tokens generated", "tokens/s"),
    )
    metrics = [
        _batch_size_metric(b, where),
        *(
            _rate_metric(
                f"throughput_{counted}_per_s",
                _per_second(times, np.full(runs, per_run)),
                runs,
                f"{what} per second at batch {b} on {where}",
                unit=unit,
                seed=seed,
            )
            for counted, per_run, what, unit in rates
        ),
    ]
    metrics += _memory_metrics(workload)
    if workload.energy_joules is not None:
        generated = b * new_tokens * runs
        metrics.append(
            _metric(
                "energy_j_per_1k_tokens",
                1000.0 * workload.energy_joules / generated,
                "lower",
                f"accelerator energy per 1000 generated tokens, joules, on {where}",
                unit="joules",
                n=runs,
            )
        )
    return metrics


_THROUGHPUT_UNITS: dict[str, Unit] = {"text": "texts/s", "image": "images/s"}


def _batch_workload_metrics(
    workload: Workload, task: Task, where: str, *, seed: int
) -> list[Metric]:
    """Throughput, memory and energy of a non-generating engine's workload (see ``Resources``)."""
    batches = [r for r in workload.runs if isinstance(r, TimedBatch)]
    runs = len(batches)
    times = np.array([r.seconds for r in batches])
    units = np.array([r.units for r in batches])
    b = workload.batch_size
    unit_name = ITEM_UNITS[task]

    metrics = [
        _batch_size_metric(b, where),
        _rate_metric(
            "throughput_samples_per_s",
            _per_second(times, np.full(runs, b)),
            runs,
            f"synthetic inputs processed per second at batch {b} on {where}",
            unit=_THROUGHPUT_UNITS.get(unit_name, "samples/s"),
            seed=seed,
        ),
    ]
    if unit_name == "audio second":
        metrics.append(
            _rate_metric(
                "throughput_audio_seconds_per_s",
                _per_second(times, units),
                runs,
                f"seconds of audio transcribed per second at batch {b} on {where}",
                unit="score",
                seed=seed,
            )
        )
    metrics += _memory_metrics(workload)
    if workload.energy_joules is not None:
        metrics.append(
            _metric(
                "energy_j_per_1k_samples",
                1000.0 * workload.energy_joules / (b * runs),
                "lower",
                f"accelerator energy per 1000 inputs, joules, on {where}",
                unit="joules",
                n=runs,
            )
        )
    return metrics


def _per_second(times: np.ndarray, amounts: np.ndarray) -> Callable[[np.ndarray], float]:
    """The statistic runs ``idx`` → their ``amounts`` done per second of their ``times`` (NaN
    when they took no time), for bootstraps over runs."""

    def statistic(idx: np.ndarray) -> float:
        total = float(times[idx].sum())
        return float(amounts[idx].sum()) / total if total > 0 else math.nan

    return statistic


def _rate_metric(
    name: str,
    per_second: Callable[[np.ndarray], float],
    runs: int,
    description: str,
    *,
    unit: Unit,
    seed: int,
) -> Metric:
    """A throughput (``_per_second``) over all ``runs``, with its bootstrap interval over runs."""
    return _metric(
        name,
        per_second(np.arange(runs)),
        "higher",
        description,
        unit=unit,
        n=runs,
        runs_interval=bootstrap_interval(per_second, runs, seed=seed),
    )


def _batch_size_metric(batch_size: int, where: str) -> Metric:
    return _metric(
        "throughput_batch_size",
        float(batch_size),
        "none",
        f"batch size of the workload on {where}",
        unit="count",
    )


def _memory_metrics(workload: Workload) -> list[Metric]:
    metrics = [
        _metric(
            "peak_rss_bytes",
            float(workload.peak_rss_bytes),
            "lower",
            "peak resident host memory of the process during the workload",
            unit="bytes",
            n=workload.rss_samples,
        )
    ]
    accelerator = {
        "peak_gpu_allocated_bytes": (
            workload.peak_gpu_allocated_bytes,
            "peak accelerator memory held by tensors",
        ),
        "peak_gpu_reserved_bytes": (
            workload.peak_gpu_reserved_bytes,
            "peak accelerator memory held by the caching allocator",
        ),
        "gpu_process_bytes": (
            workload.gpu_process_bytes,
            "accelerator memory the driver reports for the process",
        ),
    }
    for name, (value, description) in accelerator.items():
        if value is not None:
            metrics.append(_metric(name, float(value), "lower", description, unit="bytes"))
    return metrics
