"""Probe kinds. Importing this package registers every built-in probe."""

from auditkit.probes import lm_eval_task, multiple_choice
from auditkit.probes.base import PROBES, Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample

__all__ = [
    "PROBES",
    "Probe",
    "ProbeContext",
    "ProbeOutput",
    "ProbeSpec",
    "Sample",
    "lm_eval_task",
    "multiple_choice",
]
