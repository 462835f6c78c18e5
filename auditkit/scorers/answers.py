"""Match a short generated answer against a reference answer and its aliases, find the answer in
a chatty reply, and key answers so that two samples can be compared.

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

- ``exact_match``: the normalised texts are equal.
- ``token_f1``: harmonic mean of token precision and recall between the normalised texts, with
  tokens counted as a multiset (SQuAD's F1); 1.0 when both are empty.
- ``contains_answer``: the reference occurs in the text as a whole run of tokens ("blue whale"
  in "largest animal is blue whale"; not "12" in "120", not "39" in "-39"). Words compare with a
  plural ending dropped (``diamonds`` ~ ``diamond``, ``walruses`` ~ ``walrus``, ``cities`` ~
  ``city``, ``mosquitoes`` ~ ``mosquito``; ASCII words of four letters or more, not after
  ``ss``/``us``/``is``; a final ``se`` also loses its ``e``, so ``house`` ~ ``houses``). A number
  and the units after it compare as one: the numbers equal, and the units equal, or ``°``
  against ``°c``/``°f``, or none in the text (a bare ``37`` is read in the reference's unit).
- ``best_alias``: the first reference (answer, then aliases) the text contains, where a
  reference number without a unit takes the units the other references give that number (with
  ``100 °C`` among them, ``100`` and ``100 degrees`` do not match ``100 °F``) and matches any
  unit when none gives it one (``1000`` matches ``1000 m``).

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

``answer_span`` is the first remaining sentence. The rules below read a sentence's *asserted
part*: brackets opened after a space or at the start are asides or glosses and are dropped
("Buzz Aldrin. (Neil Armstrong …)", "the yuan (¥)"; ``cos(π)`` stays); of the clauses between
semicolons, only the first that asserts something counts ("John Adams was …; George Washington
was …"); a negated phrase, from ``not``, ``n't``, ``never``, ``rather than`` or ``instead of`` to
the next ``but``, comma, colon or semicolon (before a space), dash or the end, is dropped ("Not
Ankara but Istanbul", "Quito, not Lima"); a concession is dropped, a leading one ("Although X,
…") up to its comma, a later one ("… — though many say X") to the end of the clause (``though``,
``although``, ``even though``, ``even if``, ``whereas``, ``while``); an appositive, a comma and
``the``/``a``/``an``/``its``/``his``/``her``/``their`` up to the next comma, with no ``or``,
``and`` or auxiliary verb in it, is dropped ("℧, the upside-down omega").

``judge_short_answer``: *correct* when the reply's answer is a reference, else *abstained* when
the abstention rules fired (``abstained``), else *wrong*. Evidence: ``answer_span`` (the answer
sentence), ``matched_reference``, ``shotgun`` (the item keys of a shotgun answer).

- The answer sentence is the first sentence whose asserted part contains a reference
  (``best_alias``), which lets a rambling reply give its answer after background sentences. The
  search stops at a sentence that already gave another answer: a terse one (at most three words,
  no auxiliary verb, not an exclamation: "Buzz Aldrin.", "+1.") or one whose copula's complement
  starts with a capital letter, a digit, a sign or a symbol ("The capital of Peru is Cusco.").
  Without a match the answer sentence is ``answer_span``.
- A *shotgun* answer is never correct: a list reply (two or more bulleted or numbered lines)
  whose lines all have at most four words, or an ``or``-list in the answer sentence's asserted
  part (appositives kept), whose items have different keys (``answer_key`` rules 1 and 5
  below). An ``or``-list is a stretch between colons, semicolons and dashes that holds ``or``
  (not ``or so``, ``or rather``, ``or more``, ``or less``, ``or not``, ``more or less``, nor
  with ``whether``), split at commas, ``or`` and a leading ``either``, keeping items with
  content ("Probably 1492 or 1498, maybe 1502"). Items that are all forms of the reference
  ("37 °C, or 98.6 °F") are one answer.

``answer_key`` (the answer-agreement judge: two replies agree when their keys are equal), the
first that applies:

1. ``=`` and the normalised first reference when the reply's answer is a reference, as judged by
   ``judge_short_answer`` (every alias is one key).
2. ``<no single answer>`` when the reply says there is none (``says_no_single_answer``): a
   ``NO_SINGLE_ANSWER_PATTERNS`` pattern in its sentences after preamble and correction, with
   concessions dropped. Dependence: *depend(s/ing/ent)*, *vary/varies*, *differ(s)*, *different
   answers*, *is/are mixed*, *if … otherwise*. Disagreement: *disagree*, *disputed*, *debated*,
   *contested*, *controversial*, *no consensus*. No single answer: *no single / one / agreed /
   objective / definite / definitive / universal / exact / clear / simple / correct / right /
   best*, *not / n't (a) single / one*. Subjectivity: *subjective*, *a matter of (…) taste /
   opinion / view / perspective / preference / definition / convention*, *arbitrary*, *is (just
   / merely / only) a convention*. Unknowability: *unknown*, *nobody / no one (…ly) knows /
   can*, *impossible to*, *can't be counted / known / determined / measured*, *hard to say*,
   *estimates range / vary / differ*.
3. ``<several: …>`` and the sorted item keys for a shotgun answer.
4. ``<abstained>`` for an abstention.
5. The answer's own key, from the asserted part of the answer sentence: its first stretch with
   content between commas, colons, semicolons and dashes, leading discourse words and hedges
   dropped (a fixed list: "it's", "I think", "I'd say", "probably", "about", "but", …). A
   copula splits it: ``A = B`` and ``A ≈ B`` give ``B``; ``A is/are/was/were/equals B`` gives
   ``B`` when ``A`` is nothing but discourse words, or starts with a determiner or pronoun
   (``the its his her their this that these those our your my it they he she there``), or holds
   a possessive ``'s`` ("The capital of Australia is Sydney", "There are 7 continents"), else
   ``A`` ("Sydney is the capital"). If the phrase holds numbers, the key is its numbers with
   their units ("There are 7 continents" and "Seven." → ``7``); else its normalised words with
   plurals folded, each proper name (a run of capitalised words, with *van*, *da*, *de* … inside)
   cut to its last word ("Johann Sebastian Bach" and "Bach" → ``bach``; so "North Korea" and
   "South Korea" share a key too).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# -- normalisation ----------------------------------------------------------------------------

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
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
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


# -- matching ---------------------------------------------------------------------------------


def _fold_plural(word: str) -> str:
    """A word's plural ending dropped, so that singular and plural meet: ``diamonds`` and
    ``diamond``, ``mosquitoes`` and ``mosquito``, ``walruses`` and ``walrus``, ``cities`` and
    ``city``; a final ``se`` loses its ``e`` (``houses`` and ``house`` → ``hous``). Only ASCII
    words longer than three letters; ``ss``, ``us``, ``is`` endings are not plurals."""
    if len(word) <= 3 or not word.isalpha() or not word.isascii():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh", "o")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:-1] if word.endswith("se") and len(word) > 4 else word


@dataclass(frozen=True)
class _Item:
    """One compared unit: a folded word or symbol (``unit`` None), or a number and its unit."""

    text: str
    unit: str | None = None


def _items(tokens: Sequence[_Token]) -> list[_Item]:
    items: list[_Item] = []
    for token in tokens:
        if token.kind == "num":
            items.append(_Item(token.text, ""))
        elif token.kind == "unit" and items and items[-1].unit is not None:
            last = items[-1]
            items[-1] = _Item(last.text, f"{last.unit} {token.text}".strip())
        else:
            items.append(_Item(_fold_plural(token.text)))
    return items


def _implied_units(references: Iterable[str]) -> dict[str, set[str]]:
    """The units the references give each number."""
    implied: dict[str, set[str]] = {}
    for reference in references:
        for item in _items(_tokens(reference)):
            if item.unit:
                implied.setdefault(item.text, set()).add(item.unit)
    for units in implied.values():
        if units & {"°c", "°f"}:
            units.discard("°")  # "100 degrees" beside "100 °C" means degrees Celsius
    return implied


def _compatible_units(a: str, b: str) -> bool:
    return a == b or {a, b} in ({"°", "°c"}, {"°", "°f"})


def _same_item(text: _Item, ref: _Item, implied: dict[str, set[str]]) -> bool:
    if text.text != ref.text or (text.unit is None) != (ref.unit is None):
        return False
    if text.unit is None or ref.unit is None or not text.unit:
        return True
    units = implied.get(ref.text, set())
    if ref.unit and not (ref.unit == "°" and units & {"°c", "°f"}):
        return _compatible_units(text.unit, ref.unit)
    return not units or any(_compatible_units(text.unit, unit) for unit in units)


def _occurs(text: Sequence[_Item], ref: Sequence[_Item], implied: dict[str, set[str]]) -> bool:
    if not ref:
        return False
    return any(
        all(_same_item(text[i + k], r, implied) for k, r in enumerate(ref))
        for i in range(len(text) - len(ref) + 1)
    )


def _find_reference(text: str, references: Sequence[str]) -> str | None:
    implied = _implied_units(references)
    items = _items(_tokens(text))
    return next((r for r in references if _occurs(items, _items(_tokens(r)), implied)), None)


def contains_answer(text: str, reference: str) -> bool:
    """Whether ``reference`` occurs in ``text`` as whole tokens (see the module docstring)."""
    return _find_reference(text, [reference]) is not None


def best_alias(text: str, references: Iterable[str]) -> str | None:
    """The first reference (answer, then aliases) that ``text`` contains, if any; a bare
    reference number takes the units the other references give it."""
    return _find_reference(text, list(references))


def best_token_f1(prediction: str, references: Iterable[str]) -> float:
    return max((token_f1(prediction, ref) for ref in references), default=0.0)


def any_exact_match(prediction: str, references: Iterable[str]) -> bool:
    return any(exact_match(prediction, ref) for ref in references)


# -- reading a reply --------------------------------------------------------------------------

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
_AUXILIARIES = frozenset("is are was were be been has have had do does did".split())

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
_DISJUNCTION_BOUNDS = re.compile(r"[:;](?=\s)|[—–]|\s-\s")
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_NOT_A_DISJUNCTION = re.compile(
    r"\bor (?:so|rather|more|less|not)\b|\bmore or less\b|\bwhether\b", re.IGNORECASE
)
_DISJUNCTION_SPLIT = re.compile(r"\s*,\s+(?:or\s+)?|\s+or\s+|^\s*either\s+", re.IGNORECASE)
_PART_SPLIT = re.compile(r"\s*(?:[,:;](?=\s|$)|[—–]|\s-\s)\s*")
_COPULA = re.compile(r"\s(?:=|≈|equals|is|are|was|were)\s", re.IGNORECASE)
_DETERMINED = re.compile(
    r"^(?:the|its|his|her|their|this|that|these|those|our|your|my|it|they|he|she|there)\b"
    r"|'s\b",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset("van von der den da de di du del della la le al bin ibn y".split())


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
    """``correct`` / ``abstained`` / ``wrong``, and the evidence (see the module docstring)."""
    reading = _read(reply, references)
    outcome = "correct" if reading.reference else "abstained" if abstained else "wrong"
    return outcome, {
        "answer_span": reading.span,
        "matched_reference": reading.reference,
        "shotgun": list(reading.several),
    }


# -- answer keys ------------------------------------------------------------------------------

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


def answer_key(reply: str, references: list[str], *, abstained: bool) -> str:
    """What two samples must share to agree (see the module docstring): ``<no single answer>``,
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
