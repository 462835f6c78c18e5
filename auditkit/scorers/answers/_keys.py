"""Answer keys: what two replies must share to agree (``answer_key``; its rules, in order, are in
the package docstring). Here: the keys that stand for no answer, a reply that says the question
has no single answer (rule 2), and an answer's own key (rule 5).

Rule 2, ``<no single answer>``: ``says_no_single_answer`` finds a ``NO_SINGLE_ANSWER_PATTERNS``
pattern in the reply's sentences after preamble and correction, with concessions dropped.
Dependence: *depend(s/ing/ent)*, *vary/varies*, *differ(s)*, *different answers*, *is/are mixed*,
*if … otherwise*. Disagreement: *disagree*, *disputed*, *debated*, *contested*, *controversial*, *no
consensus*. No single answer: *no single / one / agreed / objective / definite / definitive /
universal / exact / clear / simple / correct / right / best*, *not / n't (a) single / one*.
Subjectivity: *subjective*, *a matter of (…) taste / opinion / view / perspective / preference /
definition / convention*, *arbitrary*, *is (just / merely / only) a convention*. Unknowability:
*unknown*, *nobody / no one (…ly) knows / can*, *impossible to*, *can't be counted / known /
determined / measured*, *hard to say*, *estimates range / vary / differ*.

Rule 5 (``_free_key``; ``_item_key`` keys an item of a shotgun answer by rules 1 and 5). The
answer's own key, from the asserted part of the answer sentence: its first stretch with content
between commas, colons, semicolons and dashes, leading discourse words and hedges dropped (a fixed
list: "it's", "I think", "I'd say", "probably", "about", "but", …). A copula splits it: ``A = B``
and ``A ≈ B`` give ``B``; ``A is/are/was/were/equals B`` gives ``B`` when ``A`` is nothing but
discourse words, or starts with a determiner or pronoun (``the its his her their this that these
those our your my it they he she there``), or holds a possessive ``'s`` ("The capital of Australia
is Sydney", "There are 7 continents"), else ``A`` ("Sydney is the capital"). If the phrase holds
numbers, the key is its numbers with their units ("There are 7 continents" and "Seven." → ``7``);
else its normalised words with plurals folded, each proper name (a run of capitalised words, with
*van*, *da*, *de* … inside) cut to its last word ("Johann Sebastian Bach" and "Bach" → ``bach``; so
"North Korea" and "South Korea" share a key too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditkit.scorers.answers._match import _find_reference, _items
from auditkit.scorers.answers._normalise import _tokens, normalize_answer
from auditkit.scorers.answers._reading import (
    _APOSTROPHES,
    _CONCESSION,
    _LEAD_IN,
    _answer_sentences,
    _asserted,
    _has_content,
    _words,
)

ABSTAINED_KEY = "<abstained>"
NO_SINGLE_ANSWER_KEY = "<no single answer>"

NO_SINGLE_ANSWER_PATTERNS: dict[str, str] = {
    "depends": (
        r"\bdepend(?:s|ing|ent)?\b|\bvar(?:y|ies|ied|ying)\b|\bdiffer(?:s|ed)?\b"
        r"|\bdifferent answers\b|\b(?:is|are) mixed\b|\bif\b[^.]*\botherwise\b"
    ),
    "disputed": (
        r"\bdisagree(?:s|d|ment)?\b|\bdisput(?:e|es|ed)\b|\bdebat(?:e|es|ed|able)\b"
        r"|\bcontested\b|\bcontroversial\b|\bno consensus\b"
    ),
    "no_single": (
        r"\bno\s+(?:single|one|agreed|objective|definite|definitive|universal|exact|clear"
        r"|simple|correct|right|best)\b|(?:\bnot|n't)\s+(?:a\s+)?(?:single|one)\b(?! of\b)"
    ),
    "subjective": (
        r"\bsubjective\b|\bmatter of\b(?:\s+\w+){0,3}?\s+(?:taste|opinions?|views?|perspective"
        r"|preference|definition|convention)\b|\barbitrary\b"
        r"|\b(?:is|are|just|merely|only)\s+(?:a\s+|an\s+)?(?:human\s+)?convention(?:al)?\b"
    ),
    "unknowable": (
        r"\bunknown\b|\b(?:nobody|no one|no-one)\s+(?:\w+ly\s+)?(?:knows|can|could)\b"
        r"|\bimpossible to\b"
        r"|\bcan(?:not|'t| not) be (?:counted|known|determined|measured)\b|\bhard to say\b"
        r"|\bestimates?\s+(?:range|vary|differ)"
    ),
}
"""Ways a reply says a question has no single answer (see the module docstring)."""
_NO_SINGLE_ANSWER = re.compile("|".join(NO_SINGLE_ANSWER_PATTERNS.values()), re.IGNORECASE)


def says_no_single_answer(reply: str) -> bool:
    """Whether ``reply`` says the question has no single answer: a ``NO_SINGLE_ANSWER_PATTERNS``
    pattern outside concessive clauses, after any preamble and correction."""
    sentences = (
        ";".join(_CONCESSION.sub("", clause) for clause in sentence.split(";"))
        for sentence in _answer_sentences(reply.translate(_APOSTROPHES))
    )
    return any(_NO_SINGLE_ANSWER.search(sentence) for sentence in sentences)


_PART_SPLIT = re.compile(r"\s*(?:[,:;](?=\s|$)|[—–]|\s-\s)\s*")
_COPULA = re.compile(r"\s(?:=|≈|equals|is|are|was|were)\s", re.IGNORECASE)
_DETERMINED = re.compile(
    r"^(?:the|its|his|her|their|this|that|these|those|our|your|my|it|they|he|she|there)\b"
    r"|'s\b",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset("van von der den da de di du del della la le al bin ibn y".split())


def _strip_lead_in(phrase: str) -> str:
    words = phrase.split()
    while words and _words(words[0]) and all(w in _LEAD_IN for w in _words(words[0])):
        words.pop(0)
    return " ".join(words)


def _reduce_names(phrase: str) -> str:
    """Each run of capitalised words (a proper name) cut to its last word."""
    words = re.split(r"[\s-]+", phrase.strip())
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            out.append(run[-1])
            run.clear()

    for k, word in enumerate(words):
        bare = word.strip("*_`\"'“”‘’()[]")
        following = words[k + 1].strip("*_`\"'“”‘’()[]") if k + 1 < len(words) else ""
        particle = bool(run) and bare.lower() in _NAME_PARTICLES and following[:1].isupper()
        if bare[:1].isupper() or particle:
            run.append(word)
        else:
            close()
            out.append(word)
    close()
    return " ".join(out)


def _free_key(sentence: str) -> str:
    """The key of an answer that is no reference (see rule 5 of ``answer_key``)."""
    parts = [p for p in _PART_SPLIT.split(_asserted(sentence)) if _has_content(p, _LEAD_IN)]
    phrase = parts[0] if parts else sentence
    sides = _COPULA.split(f" {phrase} ", maxsplit=1)
    if len(sides) == 2:
        determined = _DETERMINED.search(sides[0].strip()) is not None
        subject, complement = (_strip_lead_in(side) for side in sides)
        equation = _COPULA.search(f" {phrase} ")
        on_right = equation is not None and equation.group(0).strip() in {"=", "≈"}
        if complement and (on_right or not subject or determined):
            phrase = complement
        elif subject:
            phrase = subject
    phrase = _strip_lead_in(phrase)
    items = _items(_tokens(phrase))
    quantities = [f"{i.text} {i.unit}".strip() for i in items if i.unit is not None]
    if quantities:
        return " ".join(quantities)
    return " ".join(item.text for item in _items(_tokens(_reduce_names(phrase))))


def _item_key(text: str, references: Sequence[str]) -> str:
    if references and _find_reference(_asserted(text), references) is not None:
        return "=" + normalize_answer(references[0])
    return _free_key(text)
