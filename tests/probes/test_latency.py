"""The latency probe: exact statistics on a scripted clock, and real runs on a tiny model."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine.hf import HFCausalLM
from auditkit.engine.mock import MockModel
from auditkit.probes.base import ProbeContext, ProbeSpec
from auditkit.probes.latency import Latency, LatencySpec, quantile_interval
from auditkit.results import Metric
from tests.probes.units import assert_units_read_as_before


class ScriptedClock:
    """Returns the given readings in order. The mock engine reads the clock three times per run:
    at the start, after the first token and at the end."""

    def __init__(self, readings: Iterable[float]) -> None:
        self.readings = iter(readings)

    def now(self) -> float:
        return next(self.readings)

    def sync(self) -> None:
        return None


def runs_clock(runs: list[tuple[float, float]], start_every: float = 100.0) -> ScriptedClock:
    """Readings for runs given as (prefill, total) seconds, run i starting at i × start_every."""
    readings: list[float] = []
    for i, (prefill, total) in enumerate(runs):
        origin = i * start_every
        readings += [origin, origin + prefill, origin + total]
    return ScriptedClock(readings)


def spec(**params: Any) -> LatencySpec:
    return LatencySpec.model_validate({"id": "latency", "kind": "latency", **params})


def run_probe(probe: Latency, model: Any = None, seed: int = 7) -> dict[str, Metric]:
    output = probe.run(ProbeContext(engine=model or MockModel(), model_id="m", seed=seed))
    return {m.name: m for m in output.metrics}


def test_statistics_on_a_scripted_clock() -> None:
    clock = runs_clock([(0.5, 2.0), (0.010, 0.100), (0.020, 0.120), (0.030, 0.200)])
    probe = Latency(
        spec(batch_sizes=[2], prompt_tokens=[8], new_tokens=5, min_runs=3, min_seconds=0.0),
        clock=clock,
    )
    metrics = run_probe(probe)
    assert_units_read_as_before(list(metrics.values()))
    # the warm-up run (0.5 s, 2.0 s) is not counted
    assert metrics["prefill_ms"].value == pytest.approx(20.0, abs=1e-9)
    assert metrics["e2e_ms_p50"].value == pytest.approx(120.0, abs=1e-9)
    assert metrics["e2e_ms_p90"].value == pytest.approx(184.0, abs=1e-9)  # 120 + 0.8 × 80
    assert metrics["e2e_ms_p99"].value == pytest.approx(198.4, abs=1e-9)
    # 2 rows × 4 tokens after the first, over the mean decode time (0.09 + 0.10 + 0.17) / 3
    assert metrics["decode_tokens_per_s"].value == pytest.approx(8 / 0.12, abs=1e-9)
    assert all(m.n == 3 for m in metrics.values())
    # three runs cannot bound a median at 95%; the p90 and p99 get a lower bound only
    p50, p90, p99 = (metrics[f"e2e_ms_p{q}"] for q in (50, 90, 99))
    assert (p50.ci_low, p50.ci_high) == (None, None)
    assert p90.ci_low == pytest.approx(100.0) and p90.ci_high is None
    assert p99.ci_low == pytest.approx(120.0) and p99.ci_high is None
    prefill = metrics["prefill_ms"]
    assert prefill.ci_low is not None and prefill.ci_high is not None
    assert 10.0 - 1e-9 <= prefill.ci_low <= prefill.value <= prefill.ci_high <= 30.0 + 1e-9
    directions = {name: m.direction for name, m in metrics.items()}
    assert directions["prefill_ms"] == directions["e2e_ms_p50"] == "lower"
    assert directions["decode_tokens_per_s"] == "higher"


def test_headline_metrics_repeat_the_first_setting() -> None:
    probe = Latency(spec(batch_sizes=[1, 4], prompt_tokens=[16, 32], min_seconds=0.0))
    metrics = run_probe(probe)
    for name in ("prefill_ms", "e2e_ms_p50", "decode_tokens_per_s"):
        assert metrics[name].value == metrics[f"b1_p16/{name}"].value
        assert "(b1_p16)" in metrics[name].description
    assert set(metrics) == set(probe.known_metrics())
    assert {"b4_p32/e2e_ms_p99", "b1_p32/prefill_ms"} <= set(metrics)


def test_one_setting_reports_each_metric_once_by_its_short_name() -> None:
    probe = Latency(spec(batch_sizes=[1], prompt_tokens=[64], new_tokens=4, min_seconds=0.0))
    output = probe.run(ProbeContext(engine=MockModel(), model_id="m", seed=7))
    names = [m.name for m in output.metrics]
    assert names == [
        "prefill_ms",
        "e2e_ms_p50",
        "e2e_ms_p90",
        "e2e_ms_p99",
        "decode_tokens_per_s",
    ]
    assert set(names) == set(probe.known_metrics())
    assert all(m.description.endswith("(b1_p64)") for m in output.metrics)
    assert [s.item_id for s in output.samples] == ["b1_p64"]
    assert set(output.samples[0].scores) == set(names)


def test_median_interval_from_order_statistics() -> None:
    # 20 runs of 1..20 ms: the distribution-free 95% interval of the median is [x(6), x(15)]
    runs = [(0.0005, (i + 1) / 1000.0) for i in reversed(range(20))]
    probe = Latency(
        spec(batch_sizes=[1], prompt_tokens=[4], warmup=0, min_runs=20, min_seconds=0.0),
        clock=runs_clock(runs),
    )
    median = run_probe(probe)["e2e_ms_p50"]
    assert median.value == pytest.approx(10.5)
    assert (median.ci_low, median.ci_high) == (pytest.approx(6.0), pytest.approx(15.0))
    assert quantile_interval(np.arange(1.0, 21.0), 0.5) == (6.0, 15.0)


def test_runs_continue_until_min_seconds_and_stop_at_max_runs() -> None:
    runs = [(0.1, 0.3)] * 10
    probe = Latency(
        spec(batch_sizes=[1], prompt_tokens=[4], warmup=0, min_runs=1, min_seconds=1.0),
        clock=runs_clock(runs),
    )
    assert run_probe(probe)["prefill_ms"].n == 4  # 0.3, 0.6, 0.9, 1.2 s
    capped = Latency(
        spec(batch_sizes=[1], prompt_tokens=[4], warmup=0, min_runs=1, max_runs=2),
        clock=runs_clock(runs),
    )
    assert run_probe(capped)["prefill_ms"].n == 2


def test_mock_dry_runs_are_deterministic() -> None:
    first = run_probe(Latency(spec()))
    second = run_probe(Latency(spec()))
    assert {k: m.value for k, m in first.items()} == {k: m.value for k, m in second.items()}
    # simulated: 2 ms + 10 µs per prompt token
    assert first["b4_p128/prefill_ms"].value == pytest.approx(2.0 + 0.01 * 4 * 128)


def test_default_run_count_bounds_the_median() -> None:
    # with the default 10 runs the median's distribution-free 95% interval is [x(2), x(9)]
    runs = [(0.0005, (i + 1) / 1000.0) for i in range(11)]  # the first is the warm-up
    probe = Latency(
        spec(batch_sizes=[1], prompt_tokens=[4], min_seconds=0.0), clock=runs_clock(runs)
    )
    p50 = run_probe(probe)["e2e_ms_p50"]
    assert p50.n == 10
    assert (p50.ci_low, p50.ci_high) == (pytest.approx(3.0), pytest.approx(10.0))


def test_spec_defaults_and_limits() -> None:
    defaults = spec()
    assert defaults.model_dump(exclude=set(ProbeSpec.model_fields)) == {
        "prompt_tokens": [128],
        "new_tokens": 32,
        "batch_sizes": [1, 4],
        "warmup": 1,
        "min_runs": 10,
        "min_seconds": 1.0,
        "max_runs": 50,
    }
    with pytest.raises(ValidationError):
        spec(new_tokens=1)
    with pytest.raises(ValidationError):
        spec(batch_sizes=[0])


def test_engine_without_timing_is_an_error() -> None:
    class Bare:
        name = "bare"

    with pytest.raises(TypeError, match="time generation"):
        Latency(spec()).run(ProbeContext(engine=Bare(), model_id="m", seed=1))  # type: ignore[arg-type]


def tiny_engine(folder: Path, device: str) -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(device)
    return HFCausalLM(model, AutoTokenizer.from_pretrained(folder), name="tiny")


def check_real_run(engine: HFCausalLM) -> None:
    probe = Latency(
        spec(batch_sizes=[1, 2], prompt_tokens=[8], new_tokens=4, min_seconds=0.0, min_runs=2)
    )
    output = probe.run(ProbeContext(engine=engine, model_id="tiny", seed=1))
    metrics = {m.name: m for m in output.metrics}
    assert metrics["b2_p8/decode_tokens_per_s"].value > 0
    assert 0 < metrics["b1_p8/prefill_ms"].value < metrics["b1_p8/e2e_ms_p50"].value
    assert [s.item_id for s in output.samples] == ["b1_p8", "b2_p8"]
    assert len(output.samples[0].details["total_seconds"]) == 2


def test_latency_on_a_tiny_model(tiny_llama_dir: Path) -> None:
    check_real_run(tiny_engine(tiny_llama_dir, "cpu"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_latency_on_cuda(tiny_llama_dir: Path) -> None:
    check_real_run(tiny_engine(tiny_llama_dir, "cuda"))
