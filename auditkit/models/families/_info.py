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
