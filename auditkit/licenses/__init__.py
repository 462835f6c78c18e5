"""Model licenses: what a raw license string means, and whether it fits the intended use.

``normalize_license`` maps the messy strings found in model cards, GGUF metadata and suites to a
knowledge-base id; ``assess_license`` turns that into an ``allowed`` / ``review`` / ``forbidden``
verdict with reasons. The facts live in ``knowledge_base.yaml``, described by ``README.md``.
"""

from __future__ import annotations

from auditkit.licenses._normalize import (
    UNKNOWN_ID,
    LicenseEntry,
    knowledge_base,
    normalize_license,
    resolve_license,
)
from auditkit.licenses._policy import IntendedUse, LicenseAssessment, Verdict, assess_license

__all__ = [
    "UNKNOWN_ID",
    "IntendedUse",
    "LicenseAssessment",
    "LicenseEntry",
    "Verdict",
    "assess_license",
    "knowledge_base",
    "normalize_license",
    "resolve_license",
]
