"""Latency of engines that do not generate text: one timed call per run on synthetic inputs.

Used by the ``latency`` probe for classifiers, speech recognisers and vision models
(``BatchTimingModel``); the metric definitions are in ``Latency``'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from auditkit.engine.base import TimedBatch
from auditkit.results import Metric, Unit
from auditkit.stats import BOOTSTRAP_RESAMPLES, bootstrap_interval

_RATE_UNITS: dict[str, Unit] = {"text": "texts/s", "image": "images/s"}
BATCH_SUFFIXES = ("e2e_ms_p50", "e2e_ms_p90", "e2e_ms_p99", "ms_per_item", "items_per_s")
SPEECH_SUFFIXES = (
    "e2e_ms_p50",
    "e2e_ms_p90",
    "e2e_ms_p99",
    "ms_per_audio_second",
    "real_time_factor",
)


def batch_latency_metrics(
    runs: list[TimedBatch], prefix: str, unit_name: str, *, seed: int
) -> list[Metric]:
    """The metrics of one batch size from its timed calls (definitions: ``Latency``)."""
    from auditkit.probes.latency import LEVEL, PERCENTILES, quantile_interval

    n = len(runs)
    seconds = np.array([r.seconds for r in runs])
    units = np.array([r.units for r in runs])
    e2e = seconds * 1000.0
    interval_detail = f"{BOOTSTRAP_RESAMPLES} resamples"

    def per_unit_ms(idx: np.ndarray) -> float:
        done = float(units[idx].sum())
        return 1000.0 * float(seconds[idx].sum()) / done if done > 0 else math.nan

    def metric(
        name: str, value: float, bounds: tuple[float | None, float | None], **fields: Any
    ) -> Metric:
        low, high = bounds
        return Metric(name=f"{prefix}/{name}", value=value, ci_low=low, ci_high=high, n=n, **fields)

    metrics = [
        metric(
            f"e2e_ms_p{q}",
            float(np.percentile(e2e, q)),
            quantile_interval(e2e, q / 100.0),
            direction="lower",
            interval="order-statistics",
            interval_detail=f"distribution-free, ≥{LEVEL:.0%}",
            description=f"{q}th percentile of the time of one call on the batch, ms",
            unit="ms",
        )
        for q in PERCENTILES
    ]
    every = np.arange(n)
    per_unit_ms_interval = bootstrap_interval(per_unit_ms, n, seed=seed)

    def over_runs(
        name: str,
        statistic: Callable[[np.ndarray], float],
        interval: tuple[float | None, float | None],
        **fields: Any,
    ) -> Metric:
        return metric(
            name,
            statistic(every),
            interval,
            interval="percentile-bootstrap-runs",
            interval_detail=interval_detail,
            **fields,
        )

    if unit_name == "audio second":
        return [
            *metrics,
            over_runs(
                "ms_per_audio_second",
                per_unit_ms,
                per_unit_ms_interval,
                direction="lower",
                description="processing time per second of audio, ms",
                unit="ms/audio s",
            ),
            over_runs(
                "real_time_factor",
                lambda idx: per_unit_ms(idx) / 1000.0,
                _scaled(per_unit_ms_interval, 1e-3),
                direction="lower",
                description="processing seconds per second of audio (below 1: faster than "
                "real time)",
                unit="real-time factor",
            ),
        ]

    def rate(idx: np.ndarray) -> float:
        total = float(seconds[idx].sum())
        return float(units[idx].sum()) / total if total > 0 else math.nan

    return [
        *metrics,
        over_runs(
            "ms_per_item",
            per_unit_ms,
            per_unit_ms_interval,
            direction="lower",
            description=f"processing time per {unit_name}, ms",
            unit="ms",
        ),
        over_runs(
            "items_per_s",
            rate,
            bootstrap_interval(rate, n, seed=seed),
            direction="higher",
            description=f"{unit_name}s processed per second, whole batch",
            unit=_RATE_UNITS.get(unit_name, "samples/s"),
        ),
    ]


def _scaled(
    interval: tuple[float | None, float | None], factor: float
) -> tuple[float | None, float | None]:
    low, high = interval
    return (
        low * factor if low is not None else None,
        high * factor if high is not None else None,
    )
