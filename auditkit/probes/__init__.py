"""Probe kinds. Importing this package registers every built-in probe."""

from auditkit.probes import (
    bias,
    group_fairness,
    hallucination,
    lm_eval_task,
    multiple_choice,
    self_consistency,
    toxicity,
    truthful,
)
from auditkit.probes import latency as latency
from auditkit.probes import resources as resources
from auditkit.probes.base import PROBES, Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample

__all__ = [
    "PROBES",
    "Probe",
    "ProbeContext",
    "ProbeOutput",
    "ProbeSpec",
    "Sample",
    "bias",
    "group_fairness",
    "hallucination",
    "lm_eval_task",
    "multiple_choice",
    "self_consistency",
    "toxicity",
    "truthful",
]
