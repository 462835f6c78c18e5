"""The narrow model interface probes call: batched scoring and generation."""

from auditkit.engine.base import (
    GenerationRequest,
    LanguageModel,
    Loglikelihood,
    LoglikelihoodRequest,
)

__all__ = ["GenerationRequest", "LanguageModel", "Loglikelihood", "LoglikelihoodRequest"]
