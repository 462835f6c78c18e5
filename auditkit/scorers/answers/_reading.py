"""Read a chatty reply: its sentences, where its answer starts, and what a sentence asserts.

Reading a reply. It is cut into non-empty lines; markdown headings, bullets (and numbers, when
at least two lines are numbered), ``**``, ``__``, ``*``, ``_`` and backticks are removed; a line
is cut into sentences after ``.``, ``!``, ``?`` or ``…`` and a space (not after an initial such
as ``W.`` or the titles ``Mt St Dr Mr Mrs Ms Prof Jr Sr``). Then:

- *Preamble*: leading sentences made only of pleasantries and discourse words (a fixed list:
  "Great question!", "Sure thing!", "Hello there!", "That's a classic!", "Of course!") are
  skipped, and so is such a lead-in before a colon or dash in the next sentence ("Here's the
  answer: …", "Good question — …"). A reply that is all preamble is kept whole.
- *Correction*: where the reply takes back what it said, only the text after the last marker
  counts: an interjected ``no``/``nope`` (followed by punctuation), ``wait`` or ``scratch that``
  at the start of the reply or after punctuation; ``actually`` right after ``?``, ``…`` or
  ``...`` ("X? Actually Y", "X... actually no, Y"); ``or rather``; ``on second thought``. A
  marker with nothing but preamble before it, or nothing after it, corrects nothing ("No, it
  was Lima.").

``answer_span`` is the first remaining sentence. The rules of the verdicts (in the package
docstring) read a sentence's *asserted part*: brackets opened after a space or at the start are
asides or glosses and are dropped ("Buzz Aldrin. (Neil Armstrong …)", "the yuan (¥)"; ``cos(π)``
stays); of the clauses between semicolons, only the first that asserts something counts ("John Adams
was …; George Washington was …"); a negated phrase, from ``not``, ``n't``, ``never``, ``rather
than`` or ``instead of`` to the next ``but``, comma, colon or semicolon (before a space), dash or
the end, is dropped ("Not Ankara but Istanbul", "Quito, not Lima"); a concession is dropped, a
leading one ("Although X, …") up to its comma, a later one ("… — though many say X") to the end of
the clause (``though``, ``although``, ``even though``, ``even if``, ``whereas``, ``while``); an
appositive, a comma and ``the``/``a``/``an``/``its``/``his``/``her``/``their`` up to the next comma,
with no ``or``, ``and`` or auxiliary verb in it, is dropped ("℧, the upside-down omega").
"""

from __future__ import annotations

import re

from auditkit.scorers.answers._normalise import _is_symbol

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_BULLET = re.compile(r"^\s*[-*•+]\s+")
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+")
_HEADING = re.compile(r"^\s*#+\s+")
_EMPHASIS = re.compile(r"\*\*|__|[*`]|(?<![^\W_])_|_(?![^\W_])")
_SENTENCE_END = re.compile(r"[.!?…]+\s+")
_NOT_AN_END = re.compile(r"(?:^|[\s(])(?:[A-Z]|Mt|St|Dr|Mr|Mrs|Ms|Prof|Jr|Sr)\.$")
_WORD = re.compile(r"[^\W_]+|[^\w\s]")

_PLEASANTRIES = frozenset(
    """
    a an the great good excellent interesting nice fun fascinating tricky classic question sure
    certainly absolutely definitely of course ok okay alright yes yeah hello hi hey thanks thank
    you happy glad help to that this it s is here answer quick short simple well hmm hm um uh
    ah oh let me see thing i d would be love can tell so right indeed fair enough there
    """.split()
)
_LEAD_IN = _PLEASANTRIES | frozenset(
    """
    but and so then or also it its is was are were there here think believe guess suppose
    probably maybe perhaps possibly likely surely certainly clearly approximately about around
    roughly nearly almost just over under exactly only might may could should must will be
    know far as my that would answer called named say reckon
    """.split()
)

_CORRECTION = re.compile(
    r"(?:(?<=[.?!…,;:—–-])|^)\s*(?:(?:no|nope)(?=\s*[,.!;:—–-])|wait\b|scratch that\b)"
    r"|(?:(?<=[?…])|(?<=\.\.\.))\s*actually\b"
    r"|\b(?:or rather|on second thought)\b",
    re.IGNORECASE,
)
_LEAD_IN_SPLIT = re.compile(r"\s*(?::(?=\s)|—|–|\s-\s)\s*")
_PARENTHESES = re.compile(r"(?:(?<=\s)|^)[(\[][^)\]]*(?:[)\]]|$)")
_NEGATED = re.compile(
    r"(?:\b(?:not|never)\b|n't\b|\brather than\b|\binstead of\b)"
    r".*?(?=\bbut\b|[,:;](?=\s)|[—–]|\s-\s|$)",
    re.IGNORECASE,
)
_CONCESSIVE = r"\b(?:though|although|even though|even if|whereas|while)\b"
_CONCESSION = re.compile(rf"^\s*{_CONCESSIVE}[^,]*,\s*|[\s,—–-]*{_CONCESSIVE}.*$", re.IGNORECASE)
_APPOSITIVE = re.compile(
    r",\s+(?:the|a|an|its|his|her|their)\s"
    r"(?:(?!\b(?:or|and|is|are|was|were|has|have|had)\b)[^;])*?(?=,\s|;|$)",
    re.IGNORECASE,
)


def _words(text: str) -> list[str]:
    """Lower-case words and symbols (currency signs, other symbols, ``%``) of ``text``."""
    return [
        w
        for w in _WORD.findall(text.translate(_APOSTROPHES).lower())
        if w[0].isalnum() or _is_symbol(w)
    ]


def _has_content(text: str, discourse: frozenset[str] = _PLEASANTRIES) -> bool:
    return any(word not in discourse for word in _words(text))


def _lines(reply: str) -> tuple[list[str], bool]:
    """The reply's non-empty lines without markdown, and whether it is a list."""
    raw = [line for line in reply.splitlines() if line.strip()]
    numbered = sum(bool(_NUMBERED.match(line)) for line in raw)
    bulleted = sum(bool(_BULLET.match(line)) for line in raw)
    lines = []
    for line in raw:
        line = _HEADING.sub("", _BULLET.sub("", line))
        if numbered >= 2:
            line = _NUMBERED.sub("", line)
        lines.append(_EMPHASIS.sub("", line).strip())
    return [line for line in lines if line], numbered >= 2 or bulleted >= 2


def _split_sentences(line: str) -> list[str]:
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        if _NOT_AN_END.search(line[start : match.start() + 1]):
            continue
        sentences.append(line[start : match.end()].strip())
        start = match.end()
    sentences.append(line[start:].strip())
    return [s for s in sentences if s]


def _answer_sentences(reply: str) -> list[str]:
    """The reply's sentences from its answer on: preamble skipped, corrections applied."""
    lines, _ = _lines(reply)
    sentences = [s for line in lines for s in _split_sentences(line)]
    first = next((k for k, s in enumerate(sentences) if _has_content(s)), None)
    if first is None:
        return sentences
    sentences = sentences[first:]
    head = _LEAD_IN_SPLIT.split(sentences[0], maxsplit=1)
    if len(head) == 2 and not _has_content(head[0]) and _has_content(head[1]):
        sentences[0] = head[1]
    text = " ".join(sentences)
    for match in reversed(list(_CORRECTION.finditer(text))):
        if _has_content(text[: match.start()]) and _has_content(text[match.end() :]):
            rest = text[match.end() :].lstrip(" ,.;:!?—–-")
            return _split_sentences(rest)
    return sentences


def answer_span(reply: str) -> str:
    """The sentence of ``reply`` that holds its answer: the first sentence after any preamble
    and correction (see the module docstring)."""
    sentences = _answer_sentences(reply)
    return sentences[0] if sentences else ""


def _clause(sentence: str) -> str:
    """The sentence's first clause that asserts something, without asides, negated phrases and
    concessions."""
    text = _PARENTHESES.sub(" ", sentence.translate(_APOSTROPHES))
    for clause in text.split(";"):
        clause = _CONCESSION.sub("", _NEGATED.sub(" ", clause))
        if _has_content(clause, _LEAD_IN):
            return clause
    return ""


def _asserted(sentence: str) -> str:
    return _APPOSITIVE.sub("", _clause(sentence))
