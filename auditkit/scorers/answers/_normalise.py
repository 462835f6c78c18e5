"""Normalise a short answer into the tokens that every comparison in this package reads.

Normalisation (``normalize_answer``), in order:

1. ``ł ø đ ß æ œ`` spelled out; Unicode compatibility decomposition with accents dropped
   (``Skłodowska`` ~ ``Sklodowska``, ``H₂O`` ~ ``H2O``, ``℃`` ~ ``°C``, ``µ`` ~ ``μ``, ``Ω`` (ohm
   sign) ~ ``Ω``); the minus signs ``−`` (also from a superscript ``⁻``), ``‒``, ``–``, ``﹣``,
   ``－`` read as ``-``; lower case; a thousands separator (comma, space, no-break spaces) between
   a digit and exactly three digits removed (``300,000`` → ``300000``, ``1 440`` → ``1440``); a
   number glued to a unit word split from it (``5km`` → ``5 km``; not for the one-letter units
   ``s c f k h``); ``/`` after a unit word read as ``per`` (``km/s`` → ``km per s``).
2. Tokens. A *number*: digits with an optional decimal part and an optional sign (``-``, ``+``)
   not glued to a letter or digit before it or after it (``-39``, ``x = -3``; in ``1789-1797``
   the ``-`` separates), written by value (``+5`` → ``5``, ``4.50`` → ``4.5``). A *word*: a run
   of letters and digits of any script (``h2so4``, ``日本``, ``π``, ``ω``, ``μ``). A *symbol*:
   each currency sign, other symbol or ``%`` (``€ ¥ £ ₩ ₹ $ ° ℧ %``), and a ``-`` right after a
   letter or digit and not before one (``O-``, ``2-``, ``micro-``). Everything else
   (punctuation, apostrophes, markdown, math operators such as ``= × ≈ +``) separates tokens.
3. Number words become numbers (``four`` → ``4``, ``two hundred and six`` → ``206``,
   ``thousand`` → ``1000``; ``one`` in any sense is ``1``); a scale word after a number
   multiplies it (``1.5 million`` → ``1500000``); ``minus`` or ``negative`` right before a number
   negates it and ``plus`` or ``positive`` right before a number is dropped (``minus forty`` →
   ``-40``; ``O negative`` stays).
4. A unit right after a number, or after ``per`` that follows a unit, gets one spelling (``per``
   is then dropped): ``°c`` (``° C``, ``C``, ``degrees Celsius``, ``centigrade``), ``°f``,
   ``°`` (``degrees``), ``k`` (kelvin), ``m km cm mm μm nm`` (``metres`` …), ``s min h day
   year``, ``g kg mg``, ``t`` (``tonnes``), ``l ml``, ``pa hpa kpa atm bar``, ``%``
   (``percent``), ``m2 km2 cm2 m3 cm3 s2`` (``square metres`` …). So ``343 metres per second``
   and ``343 m/s`` are both ``343 m s``. No unit is converted into another.
5. The articles *a*, *an*, *the* are dropped wherever another token follows them (``the
   Pacific`` → ``pacific``; the ``A`` of ``Vitamin A`` stays).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
    }
)
_MINUS_SIGNS = str.maketrans(
    {"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"}
)
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)")
_GLUED_UNIT = re.compile(r"(?<![^\W_.])(\d+(?:\.\d+)?)([^\W\d_]+)\b")
_SLASH = re.compile(r"([^\W\d_]+)/(?=[^\W\d_])")
_TOKEN = re.compile(
    r"(?P<num>(?<![^\W_])[-+]?\d+(?:\.\d+)?(?![^\W_]))"
    r"|(?P<word>[^\W_]+)"
    r"|(?P<minus>(?<=[^\W_])-(?![^\W_]))"
    r"|(?P<other>\S)"
)
_ARTICLES = frozenset({"a", "an", "the"})

_SMALL_NUMBERS = {
    name: value
    for value, name in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    name: 10 * value
    for value, name in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2
    )
}
_SCALES = {
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
    "quadrillion": 10**15,
    "quintillion": 10**18,
}
_NEGATIVE_WORDS = frozenset({"minus", "negative"})
_POSITIVE_WORDS = frozenset({"plus", "positive"})

_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "°c": ("° c", "° celsius", "degrees celsius", "degree celsius", "celsius", "centigrade", "c"),
    "°f": ("° f", "° fahrenheit", "degrees fahrenheit", "degree fahrenheit", "fahrenheit", "f"),
    "°": ("°", "degrees", "degree", "deg"),
    "k": ("k", "kelvin", "kelvins"),
    "m": ("m", "metre", "metres", "meter", "meters"),
    "km": ("km", "kilometre", "kilometres", "kilometer", "kilometers"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "μm": ("μm", "micrometre", "micrometres", "micrometer", "micrometers", "micron", "microns"),
    "nm": ("nm", "nanometre", "nanometres", "nanometer", "nanometers"),
    "s": ("s", "sec", "secs", "second", "seconds"),
    "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "day": ("day", "days"),
    "year": ("year", "years", "yr", "yrs"),
    "g": ("g", "gram", "grams", "gramme", "grammes"),
    "kg": ("kg", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    "mg": ("mg", "milligram", "milligrams"),
    "t": ("tonne", "tonnes"),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "pa": ("pa", "pascal", "pascals"),
    "hpa": ("hpa", "hectopascal", "hectopascals"),
    "kpa": ("kpa", "kilopascal", "kilopascals"),
    "atm": ("atm", "atmosphere", "atmospheres"),
    "bar": ("bar", "bars"),
    "%": ("%", "percent", "per cent"),
    "m2": ("m2", "square metre", "square metres", "square meter", "square meters"),
    "km2": (
        "km2",
        "square kilometre",
        "square kilometres",
        "square kilometer",
        "square kilometers",
    ),
    "cm2": ("cm2",),
    "m3": ("m3", "cubic metre", "cubic metres", "cubic meter", "cubic meters"),
    "cm3": ("cm3", "cc"),
    "s2": ("s2",),
}
_UNITS: dict[tuple[str, ...], str] = {
    tuple(spelling.split()): unit
    for unit, spellings in _UNIT_SPELLINGS.items()
    for spelling in spellings
}
_UNIT_LENGTHS = sorted({len(key) for key in _UNITS}, reverse=True)
_GLUED_UNIT_WORDS = frozenset(
    key[0] for key in _UNITS if len(key) == 1 and key[0] not in {"s", "c", "f", "k", "h", "t"}
)


@dataclass(frozen=True)
class _Token:
    text: str
    kind: str  # "num", "unit", "word" or "sym"


def _canonical_number(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(), "f")


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _prepare(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = _THOUSANDS.sub("", stripped.translate(_MINUS_SIGNS).lower())

    def split_unit(match: re.Match[str]) -> str:
        number, word = match.groups()
        return f"{number} {word}" if word in _GLUED_UNIT_WORDS else match.group(0)

    def per(match: re.Match[str]) -> str:
        word = match.group(1)
        return f"{word} per " if (word,) in _UNITS else f"{word} "

    return _SLASH.sub(per, _GLUED_UNIT.sub(split_unit, lowered))


def _is_symbol(ch: str) -> bool:
    return ch == "%" or unicodedata.category(ch) in {"Sc", "So"}


def _raw_tokens(prepared: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(prepared):
        kind = match.lastgroup
        text = match.group(0)
        if kind == "num":
            value = _number(text)
            if value is not None:
                tokens.append(_Token(_canonical_number(value), "num"))
        elif kind == "word":
            tokens.append(_Token(text, "word"))
        elif kind == "minus" or (kind == "other" and _is_symbol(text)):
            tokens.append(_Token(text, "sym"))
    return tokens


def _number_words(tokens: list[_Token]) -> list[_Token]:
    """Number words to numbers, scale words after numbers, and sign words before numbers."""
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].text if tokens[i].kind == "word" else ""
        if word in _SCALES and out and out[-1].kind == "num":
            value = Decimal(out[-1].text) * _SCALES[word]
            out[-1] = _Token(_canonical_number(value), "num")
            i += 1
            continue
        if word in _SMALL_NUMBERS or word in _TENS or word == "hundred" or word in _SCALES:
            total, current, j = 0, 0, i
            while j < len(tokens) and tokens[j].kind == "word":
                w = tokens[j].text
                if w in _SMALL_NUMBERS:
                    current += _SMALL_NUMBERS[w]
                elif w in _TENS:
                    current += _TENS[w]
                elif w == "hundred":
                    current = max(current, 1) * 100
                elif w in _SCALES:
                    total += max(current, 1) * _SCALES[w]
                    current = 0
                elif (
                    w == "and"
                    and j > i
                    and tokens[j - 1].text in {"hundred", *_SCALES}
                    and j + 1 < len(tokens)
                    and tokens[j + 1].text in {**_SMALL_NUMBERS, **_TENS}
                ):
                    pass
                else:
                    break
                j += 1
            out.append(_Token(str(total + current), "num"))
            i = j
            continue
        out.append(tokens[i])
        i += 1
    result: list[_Token] = []
    for k, token in enumerate(out):
        after = out[k + 1] if k + 1 < len(out) else None
        if token.kind == "word" and after is not None and after.kind == "num":
            if token.text in _NEGATIVE_WORDS:
                out[k + 1] = _Token(_canonical_number(-Decimal(after.text)), "num")
                continue
            if token.text in _POSITIVE_WORDS:
                continue
        result.append(token)
    return result


def _units(tokens: list[_Token]) -> list[_Token]:
    """Unit spellings after a number (or after ``per`` following a unit) to one spelling."""
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        previous = out[-1].kind if out else ""
        start = i
        if previous == "unit" and tokens[i].text == "per":
            start = i + 1
        if previous in {"num", "unit"}:
            for length in _UNIT_LENGTHS:
                key = tuple(t.text for t in tokens[start : start + length])
                if len(key) == length and key in _UNITS and (previous == "num" or start > i):
                    out.append(_Token(_UNITS[key], "unit"))
                    i = start + length
                    break
            else:
                out.append(tokens[i])
                i += 1
            continue
        out.append(tokens[i])
        i += 1
    return out


def _tokens(text: str) -> list[_Token]:
    tokens = _units(_number_words(_raw_tokens(_prepare(text))))
    return [
        token
        for k, token in enumerate(tokens)
        if not (token.kind == "word" and token.text in _ARTICLES and k + 1 < len(tokens))
    ]


def normalize_answer(text: str) -> str:
    """The normalised form used by every comparison here (see the module docstring)."""
    return " ".join(token.text for token in _tokens(text))
