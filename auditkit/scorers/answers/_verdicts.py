"""The two verdicts on a reply, from one reading of it: ``judge_short_answer`` (is its answer a
reference?) and ``answer_key`` (what two replies must share to agree). Their rules, and what a
shotgun answer and an answer sentence are, are in the package docstring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from auditkit.scorers.answers._keys import (
    _COPULA,
    ABSTAINED_KEY,
    NO_SINGLE_ANSWER_KEY,
    _free_key,
    _item_key,
    says_no_single_answer,
)
from auditkit.scorers.answers._match import _find_reference
from auditkit.scorers.answers._normalise import _is_symbol, normalize_answer
from auditkit.scorers.answers._reading import (
    _LEAD_IN,
    _answer_sentences,
    _asserted,
    _clause,
    _has_content,
    _lines,
    _words,
)

_AUXILIARIES = frozenset("is are was were be been has have had do does did".split())
_DISJUNCTION_BOUNDS = re.compile(r"[:;](?=\s)|[—–]|\s-\s")
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_NOT_A_DISJUNCTION = re.compile(
    r"\bor (?:so|rather|more|less|not)\b|\bmore or less\b|\bwhether\b", re.IGNORECASE
)
_DISJUNCTION_SPLIT = re.compile(r"\s*,\s+(?:or\s+)?|\s+or\s+|^\s*either\s+", re.IGNORECASE)


def _disjunction(sentence: str) -> list[str]:
    """The items of an ``or``-list in the sentence's asserted part (empty if there is none)."""
    clause = _clause(sentence)
    for segment in _DISJUNCTION_BOUNDS.split(clause):
        if _OR.search(segment) and not _NOT_A_DISJUNCTION.search(segment):
            items = [item for item in _DISJUNCTION_SPLIT.split(segment) if item]
            items = [item for item in items if _has_content(item, _LEAD_IN)]
            if len(items) >= 2:
                return items
    return []


def _states_an_answer(sentence: str) -> bool:
    """Whether the sentence gives an answer, right or wrong: it is terse (at most three words,
    no auxiliary verb, not an exclamation), or it says that something is a name, number or
    symbol (the complement of its copula starts with a capital letter, a digit, a sign or a
    symbol: "The capital of Australia is Sydney.")."""
    asserted = _asserted(sentence)
    words = _words(asserted)
    if 0 < len(words) <= 3 and not _AUXILIARIES.intersection(words):
        return not sentence.rstrip().endswith("!")
    sides = _COPULA.split(f" {asserted} ", maxsplit=1)
    complement = sides[1].strip() if len(sides) == 2 else ""
    first = complement[:1]
    return bool(first) and (
        first.isupper() or first.isdigit() or first in "-+" or _is_symbol(first)
    )


@dataclass(frozen=True)
class _Reading:
    span: str
    """The answer sentence."""
    reference: str | None
    """The reference the answer is, if any."""
    several: tuple[str, ...]
    """The item keys of a shotgun answer (empty if it is not one)."""


def _read(reply: str, references: Sequence[str]) -> _Reading:
    lines, is_list = _lines(reply)
    if is_list and all(len(_words(line)) <= 4 for line in lines):
        keys = {_item_key(line, references) for line in lines}
        if len(keys) > 1:
            return _Reading("\n".join(lines), None, tuple(sorted(keys)))
    sentences = _answer_sentences(reply)
    span = sentences[0] if sentences else ""
    reference = None
    for sentence in sentences:
        reference = _find_reference(_asserted(sentence), references) if references else None
        if reference is not None:
            span = sentence
            break
        if _states_an_answer(sentence):
            break
    items = _disjunction(span)
    if items:
        keys = {_item_key(item, references) for item in items}
        if len(keys) > 1:
            return _Reading(span, None, tuple(sorted(keys)))
    return _Reading(span, reference, ())


def judge_short_answer(
    reply: str, references: list[str], *, abstained: bool
) -> tuple[str, dict[str, object]]:
    """``correct`` / ``abstained`` / ``wrong``, and the evidence (see the package docstring)."""
    reading = _read(reply, references)
    outcome = "correct" if reading.reference else "abstained" if abstained else "wrong"
    return outcome, {
        "answer_span": reading.span,
        "matched_reference": reading.reference,
        "shotgun": list(reading.several),
    }


def answer_key(reply: str, references: list[str], *, abstained: bool) -> str:
    """What two samples must share to agree (see the package docstring): ``<no single answer>``,
    a shotgun's ``<several: …>``, ``=`` and the matched reference, ``<abstained>``, or the
    answer's own key."""
    reading = _read(reply, references)
    if reading.reference is not None:
        return "=" + normalize_answer(references[0])
    if says_no_single_answer(reply):
        return NO_SINGLE_ANSWER_KEY
    if reading.several:
        return "<several: " + " | ".join(reading.several) + ">"
    if abstained:
        return ABSTAINED_KEY
    return _free_key(reading.span)
