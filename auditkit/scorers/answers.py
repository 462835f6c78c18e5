"""Match a short generated answer against a reference answer and its aliases.

Normalisation (``normalize_answer``), in order: Unicode compatibility form with accents dropped
(``Skłodowska`` and ``Sklodowska``, ``H₂O`` and ``H2O`` match), lower case, thousands separators
between digits removed (``300,000`` → ``300000``), every other non-alphanumeric character replaced
by a space, the articles *a*, *an*, *the* removed, whitespace collapsed. This is the SQuAD rule
plus accent and digit handling.

- ``exact_match``: the normalised texts are equal.
- ``token_f1``: harmonic mean of token precision and recall between the normalised texts, with
  tokens counted as a multiset (SQuAD's F1); 1.0 when both are empty.
- ``contains_answer``: the normalised reference appears in the normalised text as a whole run of
  tokens ("blue whale" in "largest animal is blue whale", not "12" in "120").

``answer_span`` takes the part of a long reply that holds its answer: its first non-empty line,
cut after the first sentence end (``.``, ``!`` or ``?`` followed by a space).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_ARTICLES = {"a", "an", "the"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def normalize_answer(text: str) -> str:
    """The normalised form used by every comparison here (see the module docstring)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    lowered = _THOUSANDS.sub("", stripped.lower())
    tokens = [t for t in _NON_WORD.sub(" ", lowered).split() if t not in _ARTICLES]
    return " ".join(tokens)


def exact_match(prediction: str, reference: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(reference)


def token_f1(prediction: str, reference: str) -> float:
    predicted = normalize_answer(prediction).split()
    expected = normalize_answer(reference).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains_answer(text: str, reference: str) -> bool:
    """Whether the normalised ``reference`` occurs in the normalised ``text`` as whole tokens."""
    needle = normalize_answer(reference)
    if not needle:
        return False
    return f" {needle} " in f" {normalize_answer(text)} "


def answer_span(reply: str) -> str:
    """The first non-empty line of ``reply``, up to its first sentence end."""
    line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
    return _SENTENCE_END.split(line, maxsplit=1)[0]


def best_alias(text: str, references: Iterable[str]) -> str | None:
    """The first reference (answer, then aliases) that ``text`` contains, if any."""
    return next((ref for ref in references if contains_answer(text, ref)), None)


def best_token_f1(prediction: str, references: Iterable[str]) -> float:
    return max((token_f1(prediction, ref) for ref in references), default=0.0)


def any_exact_match(prediction: str, references: Iterable[str]) -> bool:
    return any(exact_match(prediction, ref) for ref in references)
