"""Model specifications, sources and loading."""

from auditkit.models.spec import ModelSource, ModelSpec

__all__ = ["ModelSource", "ModelSpec"]
