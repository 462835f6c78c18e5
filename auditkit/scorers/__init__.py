"""Scorers: texts in, one number in [0, 1] per text out (toxicity, abstention, sentiment).

Every probe that judges generated text names its scorer in the suite; see ``ScorerSpec``. Answer
matching against references (``answers``) and abstention patterns (``refusal``) live here too.
"""

from auditkit.scorers._base import SCORER_NAMES, Scorer, ScorerField, ScorerSpec, build_scorer

__all__ = ["SCORER_NAMES", "Scorer", "ScorerField", "ScorerSpec", "build_scorer"]
