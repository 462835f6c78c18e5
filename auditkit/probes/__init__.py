"""Probe kinds. Importing this package registers every built-in probe.

Every module here not named ``_*`` is imported (``auditkit.registry.discover``), so a new probe
is one file in this folder with one ``@register_probe`` class, plus its data and tests.
"""

from auditkit.probes.base import (
    PROBES,
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    register_probe,
)
from auditkit.registry import discover

discover(__name__)

__all__ = [
    "PROBES",
    "Probe",
    "ProbeContext",
    "ProbeOutput",
    "ProbeSpec",
    "Sample",
    "register_probe",
]
