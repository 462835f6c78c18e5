"""Hand-built audit results for the renderer tests: no models, no engine, just the result types."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from auditkit.results import (
    AuditResult,
    Environment,
    ErrorInfo,
    Metric,
    ModelFile,
    ModelInfo,
    ModelResult,
    ProbeResult,
    ProbeSummary,
)
from tests.report import realistic

SHA = "ab" * 32


class Build:
    """Small constructors with sensible defaults, so each test states only what it is about."""

    @staticmethod
    def metric(name: str = "accuracy", value: float = 0.5, **fields: Any) -> Metric:
        defaults: dict[str, Any] = {"n": 200, "direction": "higher"}
        return Metric(name=name, value=value, **{**defaults, **fields})

    @staticmethod
    def info(**fields: Any) -> ModelInfo:
        defaults: dict[str, Any] = {
            "source": "pkg:tiny/model.gguf",
            "resolved": "/models/tiny/model.gguf",
            "architecture": "llama",
            "parameters": 134_515_008,
            "bytes_on_disk": 3 * 2**20,
            "files": [ModelFile(path="/models/tiny/model.gguf", bytes=3 * 2**20, sha256=SHA)],
            "license": "apache-2.0",
            "license_source": "model card",
            "dtype": "float32",
            "device": "cpu",
            "load_seconds": 1.25,
        }
        return ModelInfo(**{**defaults, **fields})

    @classmethod
    def model(
        cls,
        model_id: str,
        probes: dict[str, list[Metric]] | None = None,
        *,
        info: ModelInfo | None = None,
        load_error: ErrorInfo | None = None,
        probe_errors: dict[str, ErrorInfo] | None = None,
    ) -> ModelResult:
        """A model result; a ``load_error`` makes it a model that never loaded."""
        if load_error is not None:
            return ModelResult(model_id=model_id, status="error", error=load_error)
        results = [
            ProbeResult(probe_id=pid, kind="multiple_choice", status="ok", metrics=metrics)
            for pid, metrics in (probes or {}).items()
        ]
        results += [
            ProbeResult(probe_id=pid, kind="multiple_choice", status="error", error=error)
            for pid, error in (probe_errors or {}).items()
        ]
        return ModelResult(model_id=model_id, status="ok", info=info or cls.info(), probes=results)

    @staticmethod
    def result(models: list[ModelResult], probe_ids: list[str], **fields: Any) -> AuditResult:
        defaults: dict[str, Any] = {
            "auditkit_version": "0.1.0",
            "suite_name": "nightly",
            "suite_sha256": "0123456789abcdef" * 4,
            "seed": 7,
            "environment": Environment(
                python="3.11.9",
                platform="Linux-6.8-x86_64",
                packages={},
                cpu="Test CPU",
                cpu_count=8,
                memory_bytes=16 * 2**30,
            ),
        }
        probes = [ProbeSummary(id=pid, kind="multiple_choice", params={}) for pid in probe_ids]
        return AuditResult(probes=probes, models=models, **{**defaults, **fields})

    @staticmethod
    def error(
        message: str, type: str = "RuntimeError", stage: Literal["load", "probe"] = "probe"
    ) -> ErrorInfo:
        return ErrorInfo(type=type, message=message, stage=stage)


@pytest.fixture
def build() -> type[Build]:
    return Build


@pytest.fixture
def realistic_result() -> AuditResult:
    return realistic.result()


@pytest.fixture
def realistic_samples() -> list[dict[str, Any]]:
    return realistic.samples()
