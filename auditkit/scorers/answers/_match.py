"""Compare a text with a reference answer and its aliases, token by normalised token.

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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditkit.scorers.answers._normalise import _Token, _tokens, normalize_answer


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
