"""Run every model × probe of a suite and write the audit's files.

The runner is the only code that knows both models and probes. A model that fails to load or a
probe that raises becomes an error row; everything else still runs. ``results.json`` is rewritten
(atomically) after every model, so a crash never loses a finished model's results.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from auditkit import __version__
from auditkit.environment import describe_environment
from auditkit.errors import ExitCode, ModelLoadError
from auditkit.files import sha256_file, write_atomic
from auditkit.models.loader import load_model
from auditkit.probes.base import Probe, ProbeContext, Sample, probe_for
from auditkit.progress import RunProgress
from auditkit.results import (
    AuditResult,
    Environment,
    ErrorInfo,
    ModelResult,
    ProbeResult,
    ProbeSummary,
)
from auditkit.suite import Suite
from auditkit.verdicts import judge_audit, read_samples

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"
MANIFEST_FILE = "manifest.json"
ERROR_LOG_FILE = "errors.log"


def seed_everything(seed: int) -> None:
    """Seed every random generator a probe might use, so reruns give the same results."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def _error(exc: BaseException, stage: Literal["load", "probe"]) -> ErrorInfo:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return ErrorInfo(type=type(exc).__name__, message=message[:500], stage=stage)


class AuditRun:
    """One execution of a suite into an output folder."""

    def __init__(self, suite: Suite, out_dir: Path, progress: RunProgress) -> None:
        self.suite = suite
        self.out_dir = out_dir
        self.progress = progress
        self.probes: list[Probe[Any]] = [probe_for(spec) for spec in suite.probes]
        self.model_results: list[ModelResult] = []
        self._samples: list[str] = []
        self._error_log: list[str] = []
        self._environment: Environment | None = None

    def execute(self) -> AuditResult:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        total = len(self.suite.models)
        for index, spec in enumerate(self.suite.models, start=1):
            self.progress.stage(f"[{index}/{total}] loading {spec.id} ({spec.source})")
            self.model_results.append(self._run_model(spec.id))
            self._write_results()
        result = judge_audit(
            self._result(),
            self.suite.gate_defs(),
            self.suite.policy,
            read_samples(self.out_dir / SAMPLES_FILE),
        )
        result.write(self.out_dir / RESULTS_FILE)
        self._write_manifest(result)
        return result

    def _run_model(self, model_id: str) -> ModelResult:
        spec = self.suite.model(model_id)
        try:
            loaded = load_model(spec, self.suite.device)
        except ModelLoadError as exc:
            self._log_error(model_id, None, exc)
            return ModelResult(model_id=model_id, status="error", error=_error(exc, "load"))
        self.progress.note(
            f"loaded {model_id}: {loaded.info.architecture}, {loaded.info.parameters / 1e6:.1f}M "
            f"parameters, {loaded.info.dtype} on {loaded.info.device} "
            f"in {loaded.info.load_seconds:.1f}s"
        )
        probe_results = []
        try:
            for probe in self.probes:
                probe_results.append(self._run_probe(model_id, probe, loaded.engine))
        finally:
            loaded.close()
        return ModelResult(model_id=model_id, status="ok", info=loaded.info, probes=probe_results)

    def _run_probe(self, model_id: str, probe: Probe[Any], engine: Any) -> ProbeResult:
        spec = probe.spec
        self.progress.stage(f"{model_id} × {spec.id} ({spec.kind})")
        seed_everything(self.suite.seed)
        context = ProbeContext(
            model=engine,
            model_id=model_id,
            seed=self.suite.seed,
            set_total=self.progress.set_total,
            advance=self.progress.advance,
        )
        started = time.perf_counter()
        try:
            output = probe.run(context)
        except Exception as exc:  # a probe crash is an error row, not the end of the audit
            self._log_error(model_id, spec.id, exc)
            return ProbeResult(
                probe_id=spec.id,
                kind=spec.kind,
                status="error",
                seconds=time.perf_counter() - started,
                error=_error(exc, "probe"),
            )
        seconds = time.perf_counter() - started
        self._samples.extend(self._sample_line(model_id, spec.id, s) for s in output.samples)
        headline = ", ".join(
            f"{m.name}={m.value:.3f}" for m in output.metrics[:3] if m.group is None
        )
        self.progress.note(f"{model_id} × {spec.id}: {headline} ({seconds:.1f}s)")
        return ProbeResult(
            probe_id=spec.id,
            kind=spec.kind,
            status="ok",
            metrics=output.metrics,
            n_samples=len(output.samples),
            seconds=seconds,
        )

    @staticmethod
    def _sample_line(model_id: str, probe_id: str, sample: Sample) -> str:
        record = {"model_id": model_id, "probe_id": probe_id, **asdict(sample)}
        return json.dumps(record, ensure_ascii=False, default=str)

    def _log_error(self, model_id: str, probe_id: str | None, exc: BaseException) -> None:
        where = f"{model_id} × {probe_id}" if probe_id else f"{model_id} (load)"
        self.progress.note(f"error: {where}: {_error(exc, 'probe').message}")
        trace = "".join(traceback.format_exception(exc))
        self._error_log.append(f"== {where}\n{trace}")

    def _result(self) -> AuditResult:
        if self._environment is None:
            self._environment = describe_environment()
        return AuditResult(
            auditkit_version=__version__,
            suite_name=self.suite.name,
            suite_sha256=self.suite.sha256,
            seed=self.suite.seed,
            baseline=self.suite.baseline,
            intended_use=self.suite.intended_use,
            probes=[
                ProbeSummary(
                    id=spec.id,
                    kind=spec.kind,
                    params=spec.model_dump(mode="json", exclude={"id", "kind"}),
                )
                for spec in self.suite.probes
            ],
            models=self.model_results,
            environment=self._environment,
        )

    def _write_results(self) -> AuditResult:
        result = self._result()
        result.write(self.out_dir / RESULTS_FILE)
        write_atomic(self.out_dir / SAMPLES_FILE, "".join(line + "\n" for line in self._samples))
        error_log = self.out_dir / ERROR_LOG_FILE
        if self._error_log:
            write_atomic(error_log, "\n".join(self._error_log))
        else:
            error_log.unlink(missing_ok=True)
        return result

    def _write_manifest(self, result: AuditResult) -> None:
        data_files = sorted({path for probe in self.probes for path in probe.data_files()})
        manifest = {
            "manifest_version": 1,
            "auditkit_version": __version__,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "suite": {"path": str(self.suite.path), "sha256": self.suite.sha256},
            "data_files": [
                {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
                for p in data_files
            ],
            "models": {
                m.model_id: [f.model_dump() for f in m.info.files] if m.info else []
                for m in result.models
            },
            "outputs": {
                name: sha256_file(self.out_dir / name)
                for name in (RESULTS_FILE, SAMPLES_FILE)
                if (self.out_dir / name).exists()
            },
            "environment": result.environment.model_dump(),
        }
        write_atomic(self.out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")


def exit_code_for(result: AuditResult) -> ExitCode:
    """3 when any work failed (the audit is incomplete), else 1 when a gate failed, else 0."""
    if result.errors:
        return ExitCode.RUN_FAILED
    return ExitCode.GATE_FAILED if result.gate_failed else ExitCode.OK
