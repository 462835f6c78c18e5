"""``word_overlap``: an example of a local Hugging Face ``evaluate`` metric that auditkit ships.

A suite names it by path (``metrics: [./metrics/word_overlap]``, relative to the suite file)
and the ``generation`` probe loads it with ``evaluate.load(path)``: no download, no hub. Copy it
as the starting point of a metric of your own: ``evaluate`` needs the script's file name to match
its folder's name, one ``evaluate.Metric`` subclass in it, ``_info()`` (with the input
``features``) and ``_compute()``; it copies the script into its module cache and imports it
there, so the script imports only installed packages, never auditkit.

Definition. Words are the lower-cased runs of letters and digits (``\\w+`` without ``_``). For a
prediction p and a reference r, the unigram precision is |words(p) ∩ words(r)| / |words(p)|, the
intersection counted as a multiset (a word counts at most as often as it occurs in r); 0 for a
prediction without words. An item's score is its best precision over its references; the
metric is the mean over items, in [0, 1], higher is better. It rewards saying nothing that is
not in a reference and does not reward covering the reference (a one-word answer that is right
scores 1).

Returns ``{"word_overlap": mean, "scores": [score of each item]}``.
"""

from __future__ import annotations

import re
from collections import Counter

import datasets
import evaluate

_WORD = re.compile(r"[^\W_]+")

_DESCRIPTION = (
    "Unigram precision of each prediction against its best reference: the share of the "
    "prediction's words that the reference contains, averaged over items."
)
_INPUTS = """
Args:
    predictions: list of str, one generated text per item.
    references: list of str, or list of lists of str (one or more references per item).
Returns:
    word_overlap: float in [0, 1], the mean over items of the best unigram precision.
    scores: list of float, each item's best unigram precision.
"""


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def unigram_precision(prediction: str, reference: str) -> float:
    """|words(prediction) ∩ words(reference)| / |words(prediction)| (0 without words)."""
    predicted = _words(prediction)
    if not predicted:
        return 0.0
    shared = Counter(predicted) & Counter(_words(reference))
    return sum(shared.values()) / len(predicted)


class WordOverlap(evaluate.Metric):
    """Mean best unigram precision of predictions against their references."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_INPUTS,
            features=[
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": datasets.Sequence(datasets.Value("string")),
                    }
                ),
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": datasets.Value("string"),
                    }
                ),
            ],
            license="Apache-2.0",
        )

    def _compute(
        self, predictions: list[str], references: list[str] | list[list[str]]
    ) -> dict[str, float | list[float]]:
        scores = []
        for prediction, item_references in zip(predictions, references, strict=True):
            choices = [item_references] if isinstance(item_references, str) else item_references
            scores.append(max((unigram_precision(prediction, r) for r in choices), default=0.0))
        mean = sum(scores) / len(scores) if scores else 0.0
        return {"word_overlap": mean, "scores": scores}
