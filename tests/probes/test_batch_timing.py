"""Latency and resources for engines that do not generate: classifiers, speech, vision."""

from __future__ import annotations

from typing import Any

import pytest

from auditkit.engine.base import DeviceMemory, Footprint, TimedBatch
from auditkit.engine.timing import Clock, ManualClock
from auditkit.probes.base import ProbeContext
from auditkit.probes.latency import Latency, LatencySpec
from auditkit.probes.resources import Resources, ResourcesSpec
from auditkit.results import Metric, ModelInfo


class FakeBatchEngine:
    """A ``BatchTimingModel`` whose calls take ``seconds_per_input`` per input on a manual clock;
    each input is worth ``units_per_input`` units (1 text or image, or 5 audio seconds)."""

    name = "fake"

    def __init__(self, seconds_per_input: float, units_per_input: float = 1.0) -> None:
        self.seconds_per_input = seconds_per_input
        self.units_per_input = units_per_input
        self._clock = ManualClock()
        self.calls: list[int] = []

    def clock(self) -> Clock:
        return self._clock

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        self.calls.append(batch_size)
        start = clock.now()
        self._clock.advance(self.seconds_per_input * batch_size)
        return TimedBatch(batch_size, self.units_per_input * batch_size, clock.now() - start)

    def footprint(self) -> Footprint:
        return Footprint(10, {"float32": 40}, 0, "cpu", "test cpu", "float32", 123)

    def reset_peak_memory(self) -> None:
        return None

    def peak_memory(self) -> DeviceMemory:
        return DeviceMemory()

    def energy_joules(self) -> float | None:
        return None


def info(task: str) -> ModelInfo:
    return ModelInfo(
        source="hf:x",
        resolved="x",
        architecture="X",
        parameters=10,
        bytes_on_disk=123,
        dtype="float32",
        device="cpu",
        load_seconds=0.5,
        task=task,
    )


def run(probe: Any, engine: FakeBatchEngine, task: str) -> dict[str, Metric]:
    context = ProbeContext(engine=engine, model_id="m", seed=1, model_info=info(task))
    return {m.name: m for m in probe.run(context).metrics}


def latency(**params: Any) -> Latency:
    return Latency(
        LatencySpec.model_validate(
            {"id": "lat", "kind": "latency", "min_runs": 3, "min_seconds": 0, **params}
        )
    )


def test_a_classifier_latency_is_per_text() -> None:
    engine = FakeBatchEngine(0.002)
    metrics = run(latency(batch_sizes=[4]), engine, "text-classification")
    assert metrics["e2e_ms_p50"].value == pytest.approx(8.0)
    assert metrics["ms_per_item"].value == pytest.approx(2.0)
    assert metrics["items_per_s"].value == pytest.approx(500.0)
    assert metrics["items_per_s"].unit == "texts/s"
    assert "decode_tokens_per_s" not in metrics
    assert engine.calls == [4, 4, 4, 4]  # one warm-up, three timed


def test_speech_latency_is_per_audio_second() -> None:
    engine = FakeBatchEngine(0.5, units_per_input=5.0)
    metrics = run(latency(batch_sizes=[1, 2]), engine, "speech-recognition")
    assert metrics["b1/real_time_factor"].value == pytest.approx(0.1)
    assert metrics["b1/real_time_factor"].unit == "real-time factor"
    assert metrics["b2/ms_per_audio_second"].value == pytest.approx(100.0)
    assert metrics["real_time_factor"].value == pytest.approx(0.1)  # headline: first setting
    assert set(metrics) == set(
        latency(batch_sizes=[1, 2]).metrics_for_tasks(("speech-recognition",))
    )


def test_resources_of_an_image_model() -> None:
    engine = FakeBatchEngine(0.01)
    probe = Resources(
        ResourcesSpec.model_validate(
            {"id": "res", "kind": "resources", "batch_sizes": [8], "runs": 2}
        )
    )
    metrics = run(probe, engine, "image-classification")
    assert metrics["throughput_samples_per_s"].value == pytest.approx(100.0)
    assert metrics["throughput_samples_per_s"].unit == "images/s"
    assert metrics["bytes_on_disk"].value == 123
    assert "throughput_tokens_per_s" not in metrics
    assert metrics["peak_rss_bytes"].value > 0


def test_resources_of_a_speech_model_count_audio_seconds() -> None:
    engine = FakeBatchEngine(0.5, units_per_input=5.0)
    probe = Resources(
        ResourcesSpec.model_validate({"id": "res", "kind": "resources", "batch_sizes": [2]})
    )
    metrics = run(probe, engine, "speech-recognition")
    assert metrics["throughput_audio_seconds_per_s"].value == pytest.approx(10.0)


def test_an_engine_that_cannot_time_itself_is_named() -> None:
    class Plain:
        name = "plain"

    with pytest.raises(
        TypeError, match="needs an engine that can time generation or its own calls; plain cannot"
    ):
        latency().run(ProbeContext(engine=Plain(), model_id="m", seed=1))
