"""Normalise transcripts before they are compared: case, numbers, punctuation, spaces.

Recognisers differ in spelling conventions more than in what they hear ("12" or "twelve",
"Earth." or "earth"); word error rates count such differences as errors unless both sides are
normalised the same way first. Each step is an option of the ``speech_recognition`` probe, and
``describe`` writes the chosen ones into its metric descriptions.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_LARGEST = 10**12 - 1
"""Numbers above this are read digit by digit."""

# A number: digits with optional thousands commas and decimals, then an optional ordinal
# suffix or percent sign. Not inside a word ("mp3", "4x4" stay as they are).
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|%)?(?![\w])", re.IGNORECASE
)
_APOSTROPHES = "'’ʼ"


class Normalisation(BaseModel):
    """How references and hypotheses are normalised before they are compared (in this order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lowercase: bool = Field(True, description="Lower-case every letter.")
    numbers_to_words: bool = Field(
        True,
        description="Write numbers in words: '45' → 'forty five', '1,200' → 'one thousand two "
        "hundred', '3.5' → 'three point five', '21st' → 'twenty first', '10%' → 'ten percent'.",
    )
    strip_punctuation: bool = Field(
        True,
        description="Delete apostrophes (don't → dont) and turn every other punctuation mark "
        "or symbol (Unicode categories P and S) into a space.",
    )

    def apply(self, text: str) -> str:
        """``text`` normalised; runs of whitespace always become one space, ends trimmed."""
        if self.lowercase:
            text = text.lower()
        if self.numbers_to_words:
            text = _NUMBER.sub(_number_in_words, text)
        if self.strip_punctuation:
            text = "".join(_without_punctuation(char) for char in text)
        return " ".join(text.split())

    def describe(self) -> str:
        """The steps in words, for metric descriptions."""
        steps = []
        if self.lowercase:
            steps.append("lower-cased")
        if self.numbers_to_words:
            steps.append("numbers in words")
        if self.strip_punctuation:
            steps.append("apostrophes deleted, other punctuation and symbols → spaces")
        steps.append("whitespace collapsed")
        return "; ".join(steps)


def _without_punctuation(char: str) -> str:
    if char in _APOSTROPHES:
        return ""
    return " " if unicodedata.category(char)[0] in "PS" else char


def _number_in_words(match: re.Match[str]) -> str:
    whole, decimals, suffix = match.group(1), match.group(2), (match.group(3) or "").lower()
    words = cardinal(int(whole.replace(",", "")))
    if decimals:
        words += " point " + " ".join(_ONES[int(digit)] for digit in decimals)
    elif suffix in ("st", "nd", "rd", "th"):
        words = ordinal(words)
    if suffix == "%":
        words += " percent"
    return f" {words} "


def cardinal(number: int) -> str:
    """``number`` (≥ 0) in English words without 'and' or hyphens: 245 → 'two hundred forty
    five'; above 999,999,999,999 digit by digit."""
    if number > _LARGEST:
        return " ".join(_ONES[int(digit)] for digit in str(number))
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {cardinal(rest)}" if rest else "")
    for scale, name in _SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return f"{cardinal(high)} {name}" + (f" {cardinal(rest)}" if rest else "")
    raise AssertionError("unreachable")  # every number ≥ 1000 has a scale


def ordinal(words: str) -> str:
    """The ordinal of a cardinal in words: 'twenty one' → 'twenty first'."""
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}" if head else last
