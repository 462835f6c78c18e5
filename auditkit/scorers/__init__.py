"""Scorers: texts in, one number in [0, 1] per text out (toxicity, abstention, sentiment).

Every probe that judges generated text names its scorer in the suite; see ``ScorerSpec``. A new
scorer is one module here that registers itself with ``@register_scorer`` (``SCORERS`` finds the
modules on its first lookup). Answer matching against references (``answers``) and abstention
patterns (``refusal``) live here too.
"""

from auditkit.scorers._base import (
    SCORERS,
    ModelScorerSpec,
    Scorer,
    ScorerField,
    ScorerSpec,
    build_scorer,
    register_scorer,
)

__all__ = [
    "SCORERS",
    "ModelScorerSpec",
    "Scorer",
    "ScorerField",
    "ScorerSpec",
    "build_scorer",
    "register_scorer",
]
