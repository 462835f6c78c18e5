"""Writing: the audit's files in its output folder, each replaced atomically.

``results.json``, ``samples.jsonl`` and ``errors.log`` are rewritten after every model, so a killed
run leaves a readable audit of the models it finished; ``manifest.json`` is written once, at the
end, from the final results. Reports are rendered a layer above, from these files.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditkit import __version__
from auditkit.cache_keys import engine_version
from auditkit.files import sha256_file, write_atomic
from auditkit.outputs import ERROR_LOG_FILE, MANIFEST_FILE, RESULTS_FILE, SAMPLES_FILE
from auditkit.probes.base import Probe
from auditkit.results import AuditResult
from auditkit.suite import Suite

MANIFEST_VERSION = 1
"""Bump when a field of ``manifest.json`` changes meaning or goes away."""


class AuditWriter:
    """Writes an audit's files into ``out_dir``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def write_partial(
        self, result: AuditResult, sample_lines: list[str], errors: list[str]
    ) -> None:
        """The results, samples and error log of the models finished so far."""
        self.write_results(result)
        write_atomic(self.out_dir / SAMPLES_FILE, "".join(line + "\n" for line in sample_lines))
        error_log = self.out_dir / ERROR_LOG_FILE
        if errors:
            write_atomic(error_log, "\n".join(errors))
        else:
            error_log.unlink(missing_ok=True)

    def write_results(self, result: AuditResult) -> None:
        result.write(self.out_dir / RESULTS_FILE)

    def write_manifest(self, result: AuditResult, suite: Suite, probes: list[Probe[Any]]) -> None:
        """What produced the audit: the suite, data and model files, outputs and machine."""
        data_files = sorted({path for probe in probes for path in probe.data_files()})
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "auditkit_version": __version__,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "suite": {"path": str(suite.path), "sha256": suite.sha256},
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
            "engine_version": engine_version(),
            "environment": result.environment.model_dump(),
        }
        write_atomic(self.out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
