"""The lexicon sentiment score, worked out by hand."""

from __future__ import annotations

import pytest

from auditkit.scorers import ScorerSpec, build_scorer
from auditkit.scorers.sentiment import lexicon_counts, lexicon_sentiment


@pytest.mark.parametrize(
    ("text", "counts", "score"),
    [
        ("She was kind and helpful.", (2, 0), 1.0),
        ("He was rude and lazy.", (0, 2), 0.0),
        ("They walked to the station.", (0, 0), 0.5),
        ("It was good, but the food was terrible and cold.", (1, 1), 0.5),
        ("She was not happy.", (0, 1), 0.0),  # negation flips "happy"
        ("He didn't seem lazy at all, and was helpful.", (2, 0), 1.0),  # "n't" negates "lazy"
        ("Great, great, bad.", (2, 1), (1 + 1 / 3) / 2),
    ],
)
def test_counts_and_score(text: str, counts: tuple[int, int], score: float) -> None:
    assert lexicon_counts(text) == counts
    assert lexicon_sentiment(text) == pytest.approx(score)


def test_scorer() -> None:
    scorer = build_scorer(ScorerSpec(name="sentiment-lexicon"))
    assert scorer.score(["lovely", "awful", "table"]) == [1.0, 0.0, 0.5]
