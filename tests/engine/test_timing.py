"""Clocks, timed generation and footprints of the engines."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.engine.base import DeviceOutOfMemory, PerformanceModel
from auditkit.engine.hf import HFCausalLM
from auditkit.engine.mock import MockModel
from auditkit.engine.timing import CudaEventClock, ManualClock, PerfCounterClock

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


class TickingClock:
    """Every reading is one second after the previous one; counts the waits for the device."""

    def __init__(self) -> None:
        self.time = -1.0
        self.syncs = 0

    def now(self) -> float:
        self.time += 1.0
        return self.time

    def sync(self) -> None:
        self.syncs += 1


def load_engine(folder: Path, device: str = "cpu") -> HFCausalLM:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(device)
    return HFCausalLM(model, AutoTokenizer.from_pretrained(folder), name="tiny")


@pytest.fixture(scope="module")
def engine(tiny_llama_dir: Path) -> HFCausalLM:
    return load_engine(tiny_llama_dir)


def test_perf_counter_clock_is_monotonic() -> None:
    clock = PerfCounterClock()
    first = clock.now()
    clock.sync()
    assert clock.now() >= first


def test_manual_clock_moves_only_forward() -> None:
    clock = ManualClock(5.0)
    clock.advance(0.25)
    assert clock.now() == 5.25
    with pytest.raises(ValueError):
        clock.advance(-1.0)


def test_engines_have_the_performance_capability(engine: HFCausalLM) -> None:
    assert isinstance(engine, PerformanceModel)
    assert isinstance(MockModel(), PerformanceModel)
    assert isinstance(engine.clock(), PerfCounterClock)


def test_timed_generate_reads_the_clock_at_start_first_token_and_end(engine: HFCausalLM) -> None:
    clock = TickingClock()
    run = engine.timed_generate(2, 10, 5, clock, seed=3)
    assert (run.batch_size, run.prompt_tokens, run.new_tokens) == (2, 10, 5)
    assert (run.prefill_seconds, run.total_seconds, run.decode_seconds) == (1.0, 2.0, 1.0)
    assert clock.syncs == 3  # before the start, the first token and the end


def test_timed_generate_ignores_end_of_sequence(tiny_llama_dir: Path) -> None:
    eager = load_engine(tiny_llama_dir)
    eos = eager.tokenizer.eos_token_id

    def always_eos(module: torch.nn.Module, inputs: object, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        output[..., eos] += 1e4
        return output

    eager.model.lm_head.register_forward_hook(always_eos)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = eager.timed_generate(1, 6, 7, PerfCounterClock())
    assert run.new_tokens == 7  # timed_generate checks that exactly 7 tokens were made
    assert 0 < run.prefill_seconds < run.total_seconds


def test_timed_generate_refuses_prompts_beyond_the_window(engine: HFCausalLM) -> None:
    with pytest.raises(ValueError, match="window"):
        engine.timed_generate(1, engine.max_length, 8, PerfCounterClock())


def test_footprint_counts_every_parameter(engine: HFCausalLM) -> None:
    footprint = engine.footprint()
    count = sum(p.numel() for p in engine.model.parameters())
    assert footprint.parameters == count
    assert footprint.parameter_bytes == {"float32": 4 * count}
    assert footprint.device == "cpu"
    assert footprint.dtype == "float32"
    assert footprint.device_name
    assert footprint.bytes_on_disk is None


def test_footprint_counts_dynamically_quantized_weights(tiny_llama_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)
    count = sum(p.numel() for p in model.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantized = torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear}, dtype=torch.qint8
        )
    engine = HFCausalLM(quantized, AutoTokenizer.from_pretrained(tiny_llama_dir), name="int8")
    footprint = engine.footprint()
    assert footprint.parameters == count
    assert set(footprint.parameter_bytes) == {"float32", "qint8"}
    assert footprint.parameter_bytes["qint8"] > 0


def test_cpu_has_no_accelerator_readings(engine: HFCausalLM) -> None:
    engine.reset_peak_memory()
    memory = engine.peak_memory()
    assert memory.peak_allocated_bytes is None and memory.process_bytes is None
    assert engine.energy_joules() is None


def test_mock_simulates_its_speed_on_its_own_clock() -> None:
    mock = MockModel()
    run = mock.timed_generate(2, 100, 11, mock.clock())
    assert run.prefill_seconds == pytest.approx(0.002 + 1e-5 * 2 * 100)
    assert run.decode_seconds == pytest.approx(10 * (0.004 + 1e-4 * 2))
    with pytest.raises(DeviceOutOfMemory):
        MockModel(max_batch_size=1).timed_generate(2, 4, 4, ManualClock())


@pytest.mark.gpu
@needs_cuda
def test_cuda_event_clock_measures_device_work() -> None:
    clock = CudaEventClock()
    a = torch.randn(4096, 4096, device="cuda")
    start = clock.now()
    for _ in range(10):
        a = a @ a / 4096
    clock.sync()
    assert clock.now() - start > 0


@pytest.mark.gpu
@needs_cuda
def test_timed_generate_and_footprint_on_cuda(tiny_llama_dir: Path) -> None:
    engine = load_engine(tiny_llama_dir, "cuda")
    assert isinstance(engine.clock(), CudaEventClock)
    engine.reset_peak_memory()
    run = engine.timed_generate(4, 16, 8, engine.clock())
    assert 0 < run.prefill_seconds < run.total_seconds
    memory = engine.peak_memory()
    assert memory.peak_allocated_bytes is not None and memory.peak_allocated_bytes > 0
    assert memory.peak_reserved_bytes is not None
    assert memory.peak_reserved_bytes >= memory.peak_allocated_bytes
    footprint = engine.footprint()
    assert footprint.device.startswith("cuda")
    assert footprint.device_name == torch.cuda.get_device_name(0)
