"""Speed and footprint measurements of a transformers model: the work behind the engines'
``timed_generate`` and ``timed_batch`` (``timed_call``), ``footprint``, ``peak_memory`` and
``energy_joules``.

Accelerator memory comes from torch's caching allocator; per-process memory and the energy
counter come from NVML when the ``pynvml`` module (package ``nvidia-ml-py``) is installed, and are
absent otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from auditkit.engine.base import DeviceMemory, DeviceOutOfMemory, Footprint
from auditkit.engine.timing import Clock, CudaEventClock, PerfCounterClock, TimedRun

ResultT = TypeVar("ResultT")


def device_clock(device: torch.device) -> Clock:
    """CUDA events on a CUDA device, the host's performance counter elsewhere."""
    return CudaEventClock(device) if device.type == "cuda" else PerfCounterClock()


def ordinary_token_ids(tokenizer: PreTrainedTokenizerBase) -> torch.Tensor:
    """Every token id that is not a special token, ascending."""
    special = set(tokenizer.all_special_ids)
    return torch.tensor([i for i in range(len(tokenizer)) if i not in special])


def synthetic_prompts(
    ordinary: torch.Tensor, batch_size: int, length: int, seed: int
) -> torch.Tensor:
    """``batch_size`` × ``length`` token ids drawn uniformly from ``ordinary``, seeded."""
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, ordinary.numel(), (batch_size, length), generator=generator)
    return ordinary[picks]


class FirstTokenTimer(LogitsProcessor):
    """Reads the clock the first time logits exist: after the prompt's forward pass."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.first: float | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.first is None:
            self.clock.sync()
            self.first = self.clock.now()
        return scores


def exact_greedy_config(
    new_tokens: int, *, pad_token_id: int, eos_token_id: int | None
) -> GenerationConfig:
    """Greedy decoding of exactly ``new_tokens`` tokens: ``min_new_tokens = max_new_tokens``
    suppresses end-of-sequence, so every run does the same work whatever the model predicts."""
    return GenerationConfig(
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        pad_token_id=pad_token_id,
        eos_token_id=eos_token_id,
    )


def timed_generate(
    model: PreTrainedModel,
    prompts: torch.Tensor,
    new_tokens: int,
    clock: Clock,
    *,
    config: GenerationConfig,
) -> TimedRun:
    """Generation of exactly ``new_tokens`` tokens per prompt with ``config`` (which must ask
    for exactly that many, as ``exact_greedy_config`` does), timed with ``clock``.

    Causal models and encoder-decoders alike: an encoder-decoder reads the prompts in its encoder
    and its output rows are the decoder's, whose first token (the decoder start token) is not
    generated; a causal model's rows begin with the prompt. Prefill lasts until the first new
    token's logits exist (``FirstTokenTimer``).
    """
    device = next(model.parameters()).device
    batch_size, prompt_tokens = prompts.shape
    inputs = prompts.to(device)
    timer = FirstTokenTimer(clock)
    with torch.inference_mode():
        output, start, end = timed_call(
            clock,
            lambda: model.generate(  # type: ignore[operator]
                inputs,
                attention_mask=torch.ones_like(inputs),
                generation_config=config,
                logits_processor=LogitsProcessorList([timer]),
            ),
            f"batch {batch_size} × {prompt_tokens} prompt tokens + {new_tokens} new tokens "
            "does not fit in device memory",
        )
    given = 1 if model.config.is_encoder_decoder else prompt_tokens
    generated = output.shape[1] - given
    if generated != new_tokens or timer.first is None:
        raise RuntimeError(f"generation made {generated} tokens instead of {new_tokens}")
    return TimedRun(
        batch_size=batch_size,
        prompt_tokens=prompt_tokens,
        new_tokens=new_tokens,
        prefill_seconds=timer.first - start,
        total_seconds=end - start,
    )


def timed_call(
    clock: Clock, call: Callable[[], ResultT], too_big: str
) -> tuple[ResultT, float, float]:
    """(``call()``'s result, start, end): the call between two readings of ``clock``, each after
    the device has finished its queued work. Running out of device memory raises
    ``DeviceOutOfMemory(too_big)`` once the failed call's tensors are released (outside the
    ``except`` block, whose traceback holds them) and the allocator's cache is emptied."""
    out_of_memory = False
    try:
        clock.sync()
        start = clock.now()
        result = call()
        clock.sync()
        end = clock.now()
    except torch.OutOfMemoryError:
        out_of_memory = True
    if out_of_memory:
        torch.cuda.empty_cache()
        raise DeviceOutOfMemory(too_big)
    return result, start, end


def model_footprint(model: PreTrainedModel, bytes_on_disk: int | None) -> Footprint:
    """Parameters and their bytes by element type; dynamically quantized linear layers keep their
    weights outside ``parameters()`` and are counted from the modules."""
    by_dtype: dict[str, int] = {}
    count = 0

    def add(tensor: torch.Tensor) -> None:
        nonlocal count
        name = str(tensor.dtype).removeprefix("torch.")
        by_dtype[name] = by_dtype.get(name, 0) + tensor.numel() * tensor.element_size()
        count += tensor.numel()

    for parameter in model.parameters():
        add(parameter)
    for module in model.modules():
        weight: Any = getattr(module, "weight", None)
        bias: Any = getattr(module, "bias", None)
        if hasattr(module, "_packed_params") and callable(weight):
            add(weight())
            if callable(bias) and isinstance(bias(), torch.Tensor):
                add(bias())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    device = next(model.parameters()).device
    dtype = max(by_dtype, key=lambda name: by_dtype[name]) if by_dtype else "none"
    return Footprint(
        parameters=count,
        parameter_bytes=dict(sorted(by_dtype.items())),
        buffer_bytes=buffers,
        device=str(device),
        device_name=device_name(device),
        dtype=dtype,
        bytes_on_disk=bytes_on_disk,
    )


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    from auditkit.environment import cpu_name

    return cpu_name()


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> DeviceMemory:
    if device.type != "cuda":
        return DeviceMemory()
    torch.cuda.synchronize(device)
    return DeviceMemory(
        peak_allocated_bytes=int(torch.cuda.max_memory_allocated(device)),
        peak_reserved_bytes=int(torch.cuda.max_memory_reserved(device)),
        process_bytes=_nvml_process_memory(device),
    )


def energy_joules(device: torch.device) -> float | None:
    """The GPU's total-energy counter (NVML, millijoules since the driver loaded) in joules."""
    handle = _nvml_handle(device)
    if handle is None:
        return None
    import pynvml

    try:
        return float(pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)) / 1000.0
    except pynvml.NVMLError:
        return None


def _nvml_handle(device: torch.device) -> Any:
    """The NVML handle of a CUDA device (matched by UUID, so remapped devices work), or ``None``
    without a CUDA device or without NVML."""
    if device.type != "cuda":
        return None
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # no pynvml module, or no driver library: NVML readings are absent
        return None
    index = device.index if device.index is not None else torch.cuda.current_device()
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    try:
        if uuid is not None:
            text = str(uuid)
            return pynvml.nvmlDeviceGetHandleByUUID(
                text if text.startswith("GPU-") else f"GPU-{text}"
            )
        if "CUDA_VISIBLE_DEVICES" not in os.environ:
            return pynvml.nvmlDeviceGetHandleByIndex(index)
    except pynvml.NVMLError:
        return None
    return None


def _nvml_process_memory(device: torch.device) -> int | None:
    handle = _nvml_handle(device)
    if handle is None:
        return None
    import pynvml

    try:
        processes = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
    except pynvml.NVMLError:
        return None
    used = [p.usedGpuMemory for p in processes if p.pid == os.getpid() and p.usedGpuMemory]
    return int(used[0]) if used else None
