"""What every family's build records about a loaded model: one ``ModelInfo`` recipe."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from auditkit.models.checkpoint import Checkpoint
from auditkit.models.metadata import describe_files
from auditkit.models.spec import ModelSpec
from auditkit.results import ModelInfo


def build_info(
    spec: ModelSpec,
    checkpoint: Checkpoint,
    *,
    architecture: str,
    parameters: int,
    dtype: str,
    device: str,
    started: float,
    notes: list[str] | None = None,
    extra_files: list[Path] | None = None,
    **fields: Any,
) -> ModelInfo:
    """``ModelInfo`` for ``spec`` loaded from ``checkpoint``: its files hashed, its license (the
    suite's override first), the load time since ``started``; ``fields`` are further
    ``ModelInfo`` fields (``runtime_detail``, ``quantization_detail``…)."""
    files = describe_files([*checkpoint.files, *(extra_files or [])])
    license_id, license_source = checkpoint.license, checkpoint.license_source
    if spec.license:
        license_id, license_source = spec.license, "suite"
    return ModelInfo(
        source=spec.source,
        resolved=checkpoint.location,
        architecture=architecture,
        parameters=parameters,
        bytes_on_disk=sum(f.bytes for f in files),
        files=files,
        license=license_id,
        license_source=license_source,
        dtype=dtype,
        quantization=spec.quantization,
        task=spec.model_task,
        runtime=spec.runtime,
        device=device,
        load_seconds=time.perf_counter() - started,
        trust_remote_code=spec.trust_remote_code,
        notes=notes or [],
        **fields,
    )


def variant_notes(spec: ModelSpec, device: str) -> list[str]:
    """What a reader of this variant's numbers must know about how it ran on ``device``."""
    from auditkit.environment import native_cpu_dtype

    notes = []
    if (
        spec.dtype in ("bfloat16", "float16")
        and device == "cpu"
        and native_cpu_dtype(spec.dtype) is False
    ):
        notes.append(
            f"{spec.dtype} is emulated on this CPU (no native {spec.dtype} instructions): its "
            "latency is not representative of hardware that has them"
        )
    if (
        spec.quantization == "int8-dynamic"
        and spec.runtime == "transformers"
        and not device.startswith("cuda")
    ):
        notes.append(
            "int8: per-token int8 products computed exactly as float32 products on this CPU "
            "(the int8 kernel is far slower here): scores are the int8 model's, latency is not "
            "an int8 kernel's"
        )
    return notes


def pytorch_info(
    spec: ModelSpec,
    checkpoint: Checkpoint,
    model: Any,
    build: Any,
    *,
    device: str,
    started: float,
    parameters: int | None = None,
    extra_files: list[Path] | None = None,
) -> ModelInfo:
    """``build_info`` for a PyTorch model whose variant was built (``variant.transform_weights``
    gave ``build``): architecture, parameter count (``parameters`` when counted before the build)
    and dtype read from the model; notes on how the variant ran; quantization, pruning and
    runtime details from the build."""
    return build_info(
        spec,
        checkpoint,
        architecture=type(model).__name__,
        parameters=parameters
        if parameters is not None
        else sum(p.numel() for p in model.parameters()),
        dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        device=device,
        started=started,
        notes=[*variant_notes(spec, device), *build.notes],
        extra_files=extra_files,
        quantization_detail=build.quantization,
        pruning=build.pruning,
        runtime_detail=build.runtime_detail,
    )
