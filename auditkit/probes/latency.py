"""``latency``: how fast the model answers: time to first token, end-to-end time, decode speed.

Every setting (batch size × prompt length) generates exactly ``new_tokens`` tokens greedily from
synthetic prompts of exactly the requested length (token ids drawn from the suite's seed), with
end-of-sequence suppressed, so variants of a model do the same work and compare fairly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
from pydantic import Field, field_validator
from scipy import stats as scipy_stats

from auditkit.engine.base import BatchTimingModel, PerformanceModel, TimedBatch
from auditkit.engine.timing import Clock, TimedRun
from auditkit.probes._batch_latency import BATCH_SUFFIXES, SPEECH_SUFFIXES, batch_latency_metrics
from auditkit.probes.base import Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample, register_probe
from auditkit.results import Direction, IntervalMethod, Metric, Unit
from auditkit.stats import BOOTSTRAP_RESAMPLES, bootstrap_interval
from auditkit.tasks import ALL_TASKS, ITEM_UNITS, LANGUAGE_TASKS, Task

LEVEL = 0.95
RunT = TypeVar("RunT")
PERCENTILES = (50, 90, 99)


class LatencySpec(ProbeSpec):
    kind: Literal["latency"]
    prompt_tokens: list[int] = Field(
        default_factory=lambda: [128], min_length=1, description="Prompt lengths, in tokens."
    )
    new_tokens: int = Field(32, ge=2, description="Tokens generated per prompt (exactly).")
    batch_sizes: list[int] = Field(
        default_factory=lambda: [1, 4], min_length=1, description="Prompts per batch."
    )
    warmup: int = Field(1, ge=0, description="Untimed runs before each setting's timed runs.")
    min_runs: int = Field(
        10,
        ge=1,
        description="Timed runs per setting, at least (10 gives the median a distribution-free "
        "95% interval; fewer leave it open).",
    )
    min_seconds: float = Field(
        1.0, ge=0, description="Timed runs continue until their total time reaches this."
    )
    max_runs: int = Field(50, ge=1, description="Timed runs per setting, at most.")

    @field_validator("prompt_tokens", "batch_sizes")
    @classmethod
    def _positive(cls, values: list[int]) -> list[int]:
        if any(v < 1 for v in values):
            raise ValueError("every value must be at least 1")
        return values


def setting_name(batch_size: int, prompt_tokens: int) -> str:
    return f"b{batch_size}_p{prompt_tokens}"


def performance_engine(model: object, kind: str) -> PerformanceModel | BatchTimingModel:
    """The engine's timing capability (generation for a language model, its own call for the
    other tasks), or a clear error when it has none."""
    if isinstance(model, (PerformanceModel, BatchTimingModel)):
        return model
    name = getattr(model, "name", type(model).__name__)
    raise TypeError(
        f"the {kind} probe needs an engine that can time generation or its own calls; {name} cannot"
    )


@register_probe
class Latency(Probe[LatencySpec]):
    """Generation latency and decode throughput per batch size and prompt length.

    For each setting ``b{B}_p{P}`` (B prompts of P tokens, ``new_tokens`` = N generated each):
    ``warmup`` untimed runs, then timed runs until at least ``min_runs`` runs and ``min_seconds``
    of summed end-to-end time (at most ``max_runs``). A run gives its prefill time t_pre (start
    to the first new token's logits: one forward pass over the prompt batch, i.e. time to first
    token) and its end-to-end time t_e2e (start to all N tokens of every row). On a CUDA device
    the clock waits for the device (CUDA events) before every reading.

    Metrics per setting, over its n timed runs:

    - ``b{B}_p{P}/prefill_ms`` = mean of t_pre in milliseconds. Lower is better. 95% interval:
      percentile bootstrap of the mean over runs (1000 resamples, seeded with the suite's seed).
    - ``b{B}_p{P}/e2e_ms_p50``, ``…/e2e_ms_p90``, ``…/e2e_ms_p99`` = the 50th, 90th, 99th
      percentile of t_e2e in milliseconds (linear interpolation between order statistics, numpy's
      default). Lower is better. 95% interval: distribution-free, from order statistics: with
      K ~ Binomial(n, q) and x_(1) ≤ … ≤ x_(n) the sorted times, the interval is [x_(l), x_(u)]
      with l the largest rank such that P(K ≤ l − 1) ≤ 2.5% and u the smallest rank such that
      P(K ≤ u − 1) ≥ 97.5%, which covers the q-quantile with probability ≥ 95%. An end with no
      such rank among the n runs (too few runs for that quantile) is left open (no bound).
    - ``b{B}_p{P}/decode_tokens_per_s`` = B × (N − 1) / mean(t_e2e − t_pre): tokens generated per
      second after the first token, for the whole batch. Higher is better. 95% interval:
      percentile bootstrap over runs of the same ratio (1000 resamples, seeded).

    With several settings, headline metrics ``prefill_ms``, ``e2e_ms_p50`` and
    ``decode_tokens_per_s`` repeat the first setting's (the first batch size with the first prompt
    length). With exactly one setting, every metric goes by its short name (``prefill_ms``,
    ``e2e_ms_p50``, ``e2e_ms_p90``…) alone, its description naming the setting, so no number is
    reported twice. ``n`` is the number of timed runs. Each setting's sample records every run's
    times.


    For a model of another task (``BatchTimingModel``: a classifier, a speech recogniser, an
    image model) a setting is a batch size ``b{B}`` alone (``prompt_tokens`` and ``new_tokens``
    do not apply): each timed run is one call of the engine on B synthetic inputs (texts of 64
    tokens, 5-second clips, images at the model's input size), t = its time, u = its work in the
    task's unit (B texts or images; 5 × B audio seconds). Metrics: ``e2e_ms_p50/p90/p99`` as
    above on t; ``ms_per_item`` = 1000 × Σt / Σu (lower is better) and ``items_per_s`` = Σu / Σt
    (texts/s or images/s; higher is better), or for speech ``ms_per_audio_second`` = 1000 × Σt /
    Σu and ``real_time_factor`` = Σt / Σu (processing seconds per audio second; lower is
    better); both with percentile bootstrap intervals over runs (1000 resamples, seeded).
    """

    kind = "latency"
    charts = ("latency",)  # the deployment view reads this probe's latency
    Spec = LatencySpec
    tasks = ALL_TASKS

    def __init__(self, spec: LatencySpec, clock: Clock | None = None) -> None:
        super().__init__(spec)
        self.clock = clock
        """The clock to time with; the engine's own (device-aware) clock when ``None``."""

    def settings(self) -> list[tuple[int, int]]:
        return [(b, p) for b in self.spec.batch_sizes for p in self.spec.prompt_tokens]

    def known_metrics(self) -> dict[str, bool]:
        return self.metrics_for_tasks(LANGUAGE_TASKS)

    def metrics_for_tasks(self, tasks: tuple[Task, ...]) -> dict[str, bool]:
        names: list[str] = []
        families: list[tuple[tuple[str, ...], tuple[str, ...], list[str]]] = []
        if any(task in LANGUAGE_TASKS for task in tasks):
            generation = [setting_name(b, p) for b, p in self.settings()]
            families.append((_SUFFIXES, HEADLINE, generation))
        batches = [f"b{b}" for b in self.spec.batch_sizes]
        if any(task not in LANGUAGE_TASKS and task != "speech-recognition" for task in tasks):
            families.append((BATCH_SUFFIXES, _BATCH_HEADLINE, batches))
        if "speech-recognition" in tasks:
            families.append((SPEECH_SUFFIXES, _BATCH_HEADLINE, batches))
        for suffixes, headline, settings in families:
            if len(settings) == 1:
                names += suffixes
            else:
                names += [s for s in suffixes if s in headline]
                names += [f"{prefix}/{suffix}" for prefix in settings for suffix in suffixes]
        return dict.fromkeys(names, False)

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        engine = performance_engine(ctx.engine, self.kind)
        clock = self.clock if self.clock is not None else engine.clock()
        if not isinstance(engine, PerformanceModel):
            task = ctx.model_info.task if ctx.model_info else "text-classification"
            return self._run_batches(engine, clock, ctx, ITEM_UNITS.get(task, "item"))  # type: ignore[call-overload]
        settings = self.settings()
        ctx.set_total(len(settings))
        metrics: list[Metric] = []
        samples: list[Sample] = []
        for index, (batch_size, prompt_tokens) in enumerate(settings):
            seed = ctx.seed + index

            def one_run(seed: int = seed, b: int = batch_size, p: int = prompt_tokens) -> TimedRun:
                return engine.timed_generate(b, p, self.spec.new_tokens, clock, seed=seed)

            runs = self._measure(one_run, lambda run: run.total_seconds)
            name = setting_name(batch_size, prompt_tokens)
            setting_metrics = latency_metrics(runs, name, seed=ctx.seed)
            if len(settings) == 1:
                metrics += _short_names(setting_metrics, name, _SUFFIXES)
            else:
                metrics += setting_metrics
                if index == 0:
                    metrics += _short_names(setting_metrics, name, HEADLINE)
            samples.append(_sample(name, runs, {m.name: m.value for m in setting_metrics}))
            ctx.advance(1)
        return ProbeOutput(metrics, samples)

    def _run_batches(
        self, engine: BatchTimingModel, clock: Clock, ctx: ProbeContext, unit_name: str
    ) -> ProbeOutput:
        sizes = self.spec.batch_sizes
        suffixes = SPEECH_SUFFIXES if unit_name == "audio second" else BATCH_SUFFIXES
        headline = tuple(s for s in suffixes if s in _BATCH_HEADLINE)
        ctx.set_total(len(sizes))
        metrics: list[Metric] = []
        samples: list[Sample] = []
        for index, batch_size in enumerate(sizes):
            seed = ctx.seed + index

            def one_run(seed: int = seed, b: int = batch_size) -> TimedBatch:
                return engine.timed_batch(b, clock, seed=seed)

            runs = self._measure(one_run, lambda run: run.seconds)
            name = f"b{batch_size}"
            setting_metrics = batch_latency_metrics(runs, name, unit_name, seed=ctx.seed)
            if len(sizes) == 1:
                metrics += _short_names(setting_metrics, name, suffixes)
            else:
                metrics += setting_metrics
                if index == 0:
                    metrics += _short_names(setting_metrics, name, headline)
            samples.append(
                Sample(
                    item_id=name,
                    input=f"{batch_size} synthetic inputs",
                    output="",
                    target="",
                    scores={m.name.split("/", 1)[1]: m.value for m in setting_metrics},
                    details={
                        "batch_size": batch_size,
                        "unit": unit_name,
                        "units_per_run": runs[0].units,
                        "total_seconds": [r.seconds for r in runs],
                    },
                )
            )
            ctx.advance(1)
        return ProbeOutput(metrics, samples)

    def _measure(self, one_run: Callable[[], RunT], seconds: Callable[[RunT], float]) -> list[RunT]:
        for _ in range(self.spec.warmup):
            one_run()
        runs: list[RunT] = []
        elapsed = 0.0
        while len(runs) < self.spec.max_runs and (
            len(runs) < self.spec.min_runs or elapsed < self.spec.min_seconds
        ):
            run = one_run()
            runs.append(run)
            elapsed += seconds(run)
        return runs


HEADLINE = ("prefill_ms", "e2e_ms_p50", "decode_tokens_per_s")
_BATCH_HEADLINE = ("e2e_ms_p50", "items_per_s", "real_time_factor")
_SUFFIXES = ("prefill_ms", *(f"e2e_ms_p{q}" for q in PERCENTILES), "decode_tokens_per_s")


def latency_metrics(runs: list[TimedRun], prefix: str, *, seed: int) -> list[Metric]:
    """The metrics of one setting from its timed runs (definitions: ``Latency``)."""
    n = len(runs)
    prefill = np.array([r.prefill_seconds for r in runs]) * 1000.0
    e2e = np.array([r.total_seconds for r in runs]) * 1000.0
    decode = np.array([r.decode_seconds for r in runs])
    generated = runs[0].batch_size * (runs[0].new_tokens - 1)

    def rate(idx: np.ndarray) -> float:
        mean = float(decode[idx].mean())
        return generated / mean if mean > 0 else math.nan

    bootstrap = _Method("percentile-bootstrap-runs", f"{BOOTSTRAP_RESAMPLES} resamples")
    order = _Method("order-statistics", f"distribution-free, ≥{LEVEL:.0%}")
    metrics = [
        _metric(
            f"{prefix}/prefill_ms",
            float(prefill.mean()),
            bootstrap_interval(lambda idx: float(prefill[idx].mean()), n, seed=seed),
            n,
            "lower",
            bootstrap,
            "mean time to first token (prefill of the prompt batch), ms",
            "ms",
        )
    ]
    for q in PERCENTILES:
        metrics.append(
            _metric(
                f"{prefix}/e2e_ms_p{q}",
                float(np.percentile(e2e, q)),
                quantile_interval(e2e, q / 100.0),
                n,
                "lower",
                order,
                f"{q}th percentile of end-to-end generation time, ms",
                "ms",
            )
        )
    metrics.append(
        _metric(
            f"{prefix}/decode_tokens_per_s",
            rate(np.arange(n)),
            bootstrap_interval(rate, n, seed=seed),
            n,
            "higher",
            bootstrap,
            "tokens generated per second after the first token, whole batch",
            "tokens/s",
        )
    )
    return metrics


def quantile_interval(
    values: np.ndarray, q: float, level: float = LEVEL
) -> tuple[float | None, float | None]:
    """Distribution-free interval for the ``q``-quantile from order statistics (see
    ``Latency``); an end is ``None`` when the runs are too few to bound it."""
    ordered = np.sort(values)
    n = ordered.size
    tail = (1.0 - level) / 2.0
    # cdf[k] = P(K <= k) for K ~ Binomial(n, q), k = 0..n
    cdf = scipy_stats.binom.cdf(np.arange(n + 1), n, q)
    lower_ranks = [rank for rank in range(1, n + 1) if cdf[rank - 1] <= tail]
    upper_ranks = [rank for rank in range(1, n + 1) if cdf[rank - 1] >= 1.0 - tail]
    low = float(ordered[max(lower_ranks) - 1]) if lower_ranks else None
    high = float(ordered[min(upper_ranks) - 1]) if upper_ranks else None
    return low, high


@dataclass(frozen=True)
class _Method:
    """How an interval was computed: ``Metric.interval`` and ``Metric.interval_detail``."""

    name: IntervalMethod
    detail: str


def _metric(
    name: str,
    value: float,
    interval: tuple[float | None, float | None],
    n: int,
    direction: Direction,
    method: _Method,
    description: str,
    unit: Unit,
) -> Metric:
    return Metric(
        name=name,
        value=value,
        ci_low=interval[0],
        ci_high=interval[1],
        n=n,
        direction=direction,
        interval=method.name,
        interval_detail=method.detail,
        description=description,
        unit=unit,
    )


def _short_names(
    setting_metrics: list[Metric], setting: str, keep: tuple[str, ...]
) -> list[Metric]:
    """The setting's metrics named in ``keep``, in their order, under their short names (the
    setting moves into the description)."""
    short = []
    for metric in setting_metrics:
        name = metric.name.split("/", 1)[1]
        if name in keep:
            update = {"name": name, "description": f"{metric.description} ({setting})"}
            short.append(metric.model_copy(update=update))
    return short


def _sample(name: str, runs: list[TimedRun], scores: dict[str, float]) -> Sample:
    first = runs[0]
    return Sample(
        item_id=name,
        input=f"{first.batch_size} synthetic prompts of {first.prompt_tokens} tokens",
        output=f"{first.new_tokens} tokens each",
        target="",
        scores={key.split("/", 1)[1]: value for key, value in scores.items()},
        details={
            "batch_size": first.batch_size,
            "prompt_tokens": first.prompt_tokens,
            "new_tokens": first.new_tokens,
            "prefill_seconds": [r.prefill_seconds for r in runs],
            "total_seconds": [r.total_seconds for r in runs],
        },
    )
