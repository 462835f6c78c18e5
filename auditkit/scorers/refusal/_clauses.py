"""The clauses of a text in the model's own voice: steps 1 and 2 of reading it (the package
docstring lists all four).

1. **The model's own voice.** Typographic apostrophes and quotation marks become straight ones;
   contractions written without an apostrophe are repaired ("cant", "wont", "dont", "doesnt",
   "didnt", "isnt", "arent", "wasnt", "werent", "couldnt", "wouldnt", "shouldnt", "havent",
   "hasnt", and "Im", "Ive"). Then what other people say is left out: anything inside double
   quotes, or inside single quotes (a ``'`` with no letter before it up to a ``'`` with no letter
   after it, so the apostrophes of "can't" or "I'm" neither open nor close a quotation), and the
   rest of a sentence after a speech verb followed by a comma or colon: said, says, replied,
   replies, answered, asked, added, shouted, whispered, muttered, explained, apologised /
   apologized, signed, or told + me / him / her / them / us / you / a capitalised name of one or
   two words ("told Mrs Patel,").
2. **Sentences and clauses.** The text is cut into lines (a leading list marker such as ``-``,
   ``•`` or ``2.`` dropped), each line into sentences after ``.``, ``!`` or ``?``, and each
   sentence into clauses at a contrastive connective: "but", "although", "though", "however",
   "whereas", or ", yet" (a semicolon does not cut). In a continuation only, an opening of at most
   four words cut off by a dash ("walked up to— Sorry, …") is a sentence of its own, and what
   follows the dash counts as the opening sentence too.
"""

from __future__ import annotations

import re

# -- 1. the model's own voice ------------------------------------------------------------------

_CHARACTERS = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"'}
)
_BARE_NT = re.compile(
    r"\b(can|won|don|doesn|didn|isn|aren|wasn|weren|couldn|wouldn|shouldn|haven|hasn)t\b",
    re.IGNORECASE,
)
_BARE_I = re.compile(r"\b(I)(m|ve)\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"\n]*\"|(?<![\w'])'(?=\S)[^\n]*?(?<=\S)'(?!\w)")
_SPEECH = re.compile(
    r"\b(said|says|replied|replies|answered|asked|added|shouted|whispered|muttered|explained"
    r"|apologi[sz]ed|signed|told (?:me|him|her|them|us|you|[A-Z][\w.]*(?: [A-Z]\w*)?))"
    r"\s*[,:][^.!?\n]*",
)


def _model_voice(text: str) -> tuple[str, list[str]]:
    """``text`` with apostrophes straightened, bare contractions repaired and what others say
    left out; and the rules that left something out (``quotation``, ``reported_speech``)."""
    text = text.translate(_CHARACTERS)
    text = _BARE_NT.sub(r"\1't", text)
    text = _BARE_I.sub(r"\1'\2", text)
    rules = []
    text, quoted = _QUOTED.subn('""', text)
    if quoted:
        rules.append("quotation")
    text, reported = _SPEECH.subn(r"\1", text)
    if reported:
        rules.append("reported_speech")
    return text, rules


# -- 2. sentences and clauses ------------------------------------------------------------------

_LIST_MARKER = re.compile(r"^\s*(?:[-•*‣▪]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]*]*\s+")
_CONTRAST = re.compile(
    r"(?:[,;:]\s*|\s+)(?:but|although|though|however|whereas)\b[,:]?\s*|[,;]\s*yet\b\s*",
    re.IGNORECASE,
)
_INTERRUPTED_START = re.compile(r"^\W*(?:[\w'-]+\s*){0,4}(?:\u2014|--)\s*")


def _sentences(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        line = _LIST_MARKER.sub("", line)
        found += [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]
    return found


def _units(text: str, *, continuation: bool) -> tuple[list[tuple[bool, str]], list[str]]:
    """((in the opening sentence, clause) for every clause of ``text``'s own voice, and the
    rules of step 1 that applied)."""
    voice, rules = _model_voice(text)
    units = []
    for number, sentence in enumerate(_sentences(voice)):
        pieces = [sentence]
        interrupted = _INTERRUPTED_START.match(sentence) if continuation and number == 0 else None
        if interrupted:
            pieces = [sentence[: interrupted.end()], sentence[interrupted.end() :]]
        for piece in pieces:
            units += [(number == 0, c.strip()) for c in _CONTRAST.split(piece) if c.strip()]
    return units, rules
