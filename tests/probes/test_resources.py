"""The resources probe: sizes, host memory, throughput, out-of-memory fallback."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine.base import DeviceOutOfMemory
from auditkit.engine.hf import HFCausalLM
from auditkit.engine.mock import MockModel
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.resources import PeakRss, Resources, ResourcesSpec
from auditkit.results import Metric
from tests.probes.units import assert_units_read_as_before

SMALL_WORKLOAD = {"prompt_tokens": 8, "new_tokens": 4, "runs": 2}


def spec(**params: Any) -> ResourcesSpec:
    return ResourcesSpec.model_validate({"id": "resources", "kind": "resources", **params})


def run(model: Any, **params: Any) -> tuple[dict[str, Metric], ProbeOutput]:
    output = Resources(spec(**params)).run(ProbeContext(engine=model, model_id="m", seed=3))
    return {m.name: m for m in output.metrics}, output


def tiny_engine(folder: Path, device: str) -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(device)
    return HFCausalLM(
        model, AutoTokenizer.from_pretrained(folder), name="tiny", bytes_on_disk=12345
    )


def test_resources_of_a_tiny_model(tiny_llama_dir: Path) -> None:
    engine = tiny_engine(tiny_llama_dir, "cpu")
    metrics, output = run(engine, batch_sizes=[1, 2], **SMALL_WORKLOAD)
    count = sum(p.numel() for p in engine.model.parameters())
    assert metrics["parameters"].value == count
    assert metrics["parameters"].direction == "none"
    assert metrics["parameter_bytes"].value == metrics["parameter_bytes/float32"].value == 4 * count
    assert metrics["bytes_on_disk"].value == 12345
    assert metrics["peak_rss_bytes"].value > 0
    assert metrics["peak_rss_bytes"].direction == "lower"
    assert metrics["throughput_batch_size"].value == 2
    for name in ("throughput_samples_per_s", "throughput_tokens_per_s"):
        assert metrics[name].value > 0
        assert metrics[name].direction == "higher"
        assert metrics[name].n == 2
    assert metrics["throughput_tokens_per_s"].value == pytest.approx(
        4 * metrics["throughput_samples_per_s"].value
    )
    assert "cpu, float32" in metrics["throughput_tokens_per_s"].description
    assert not {"peak_gpu_allocated_bytes", "energy_j_per_1k_tokens"} & set(metrics)
    details = output.samples[0].details
    assert details["device"] == "cpu" and details["dtype"] == "float32"
    assert details["out_of_memory_batch_sizes"] == []


def test_load_time_and_disk_size_come_from_the_loader(tiny_llama_dir: Path) -> None:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    model_spec = ModelSpec.model_validate(
        {"id": "m", "source": f"hf:{tiny_llama_dir}"}, context={"base_dir": "."}
    )
    loaded = load_model(model_spec, "cpu")
    context = ProbeContext(engine=loaded.engine, model_id="m", seed=3, model_info=loaded.info)
    output = Resources(spec(batch_sizes=[1], **SMALL_WORKLOAD)).run(context)
    metrics = {m.name: m for m in output.metrics}
    assert metrics["load_seconds"].value == loaded.info.load_seconds > 0
    assert metrics["load_seconds"].direction == "lower"
    assert metrics["bytes_on_disk"].value == loaded.info.bytes_on_disk > 0
    # without a loader (an engine built by hand) there is no load time to report
    assert "load_seconds" not in run(loaded.engine, batch_sizes=[1], **SMALL_WORKLOAD)[0]


def test_throughput_formulas_on_the_simulated_mock() -> None:
    metrics, output = run(MockModel(), batch_sizes=[4], prompt_tokens=10, new_tokens=6, runs=3)
    assert_units_read_as_before(list(metrics.values()))
    seconds = 0.002 + 1e-5 * 4 * 10 + 5 * (0.004 + 1e-4 * 4)  # one simulated run
    assert output.samples[0].details["total_seconds"] == [pytest.approx(seconds)] * 3
    assert metrics["throughput_samples_per_s"].value == pytest.approx(4 / seconds)
    assert metrics["throughput_tokens_per_s"].value == pytest.approx(4 * 6 / seconds)


def test_out_of_memory_halves_the_batch() -> None:
    metrics, output = run(MockModel(max_batch_size=4), batch_sizes=[1, 8, 32], **SMALL_WORKLOAD)
    assert metrics["throughput_batch_size"].value == 4
    assert output.samples[0].details["out_of_memory_batch_sizes"] == [32, 16, 8]
    metrics, output = run(MockModel(max_batch_size=5), batch_sizes=[2, 6], **SMALL_WORKLOAD)
    assert metrics["throughput_batch_size"].value == 3  # half of 6 beats the listed 2
    with pytest.raises(DeviceOutOfMemory):
        run(MockModel(max_batch_size=0), batch_sizes=[2], **SMALL_WORKLOAD)


def test_peak_rss_samples_while_open() -> None:
    with PeakRss(interval=0.001) as rss:
        block = bytearray(32 * 1024 * 1024)
        time.sleep(0.05)
    assert rss.samples >= 3
    assert rss.peak >= 32 * 1024 * 1024
    del block


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_resources_on_cuda(tiny_llama_dir: Path) -> None:
    metrics, output = run(tiny_engine(tiny_llama_dir, "cuda"), batch_sizes=[4], **SMALL_WORKLOAD)
    assert metrics["peak_gpu_allocated_bytes"].value > 0
    assert metrics["peak_gpu_reserved_bytes"].value >= metrics["peak_gpu_allocated_bytes"].value
    assert output.samples[0].details["device"].startswith("cuda")
    assert torch.cuda.get_device_name(0) in metrics["throughput_tokens_per_s"].description
