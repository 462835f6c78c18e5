"""``RefusalScorer``: ``abstention_verdict`` as a scorer, optionally with an embedding check."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from auditkit.scorers._base import Scorer, ScorerSpec, register_scorer
from auditkit.scorers.refusal._verdicts import abstention_verdict

ABSTENTION_EXAMPLES = (
    "I don't know.",
    "I'm not sure.",
    "I have no information about that.",
    "I could not find anything about this.",
    "I am not aware of that.",
    "There is no such thing.",
    "That does not exist.",
    "I can't help with that.",
)
"""Reference abstentions for the optional embedding check."""


class RefusalSpec(ScorerSpec):
    """Options of the ``refusal`` scorer."""

    embeddings: bool = Field(
        False,
        description="Also count a text as an abstention when its sentence embedding is close to "
        "a known abstention (needs the packaged all-MiniLM-L6-v2 model).",
    )
    threshold: float = Field(
        0.45, ge=0.0, le=1.0, description="With embeddings: the cosine similarity cut-off."
    )


class RefusalScorer(Scorer):
    """1.0 when a text abstains or refuses, else 0.0.

    By ``abstention_verdict``; with ``embeddings``, also when the cosine similarity of the text's
    sentence embedding (all-MiniLM-L6-v2) to one of ``ABSTENTION_EXAMPLES`` is at least
    ``threshold``. In the project's checks, short abstentions scored 0.48 to 0.61 ("Honestly, no
    clue.", "Nobody knows.", "Sorry, I can't find that.", all also found by the rules, and
    "Couldn't tell you.", which no rule covers) and confident answers below 0.2; a long reply
    dilutes an abstention inside it, which the rules still catch.
    """

    name = "refusal"

    def __init__(self, *, embeddings: bool = False, threshold: float = 0.45) -> None:
        self.embeddings = embeddings
        self.threshold = threshold
        self.version = "patterns-2" + (f"+minilm@{threshold:g}" if embeddings else "")
        self._reference = None
        if embeddings:
            from auditkit.scorers.embeddings import SentenceEmbedder

            self._embedder = SentenceEmbedder()
            self._reference = self._embedder.embed(list(ABSTENTION_EXAMPLES))

    def matches(self, texts: Sequence[str]) -> list[list[str]]:
        """Per text, what made it an abstention: ``abstention_verdict``'s ``patterns`` (empty when
        it answered), and ``embedding`` when the embedding check fires."""
        found = [abstention_verdict(text)[1]["patterns"] for text in texts]
        if self._reference is not None:
            similarity = self._embedder.embed(list(texts)) @ self._reference.T
            for names, row in zip(found, similarity, strict=True):
                if float(row.max()) >= self.threshold:
                    names.append("embedding")
        return found

    def score(self, texts: Sequence[str]) -> list[float]:
        return [float(bool(names)) for names in self.matches(texts)]


@register_scorer("refusal", params=RefusalSpec)
def _refusal(spec: RefusalSpec) -> RefusalScorer:
    return RefusalScorer(embeddings=spec.embeddings, threshold=spec.threshold)
