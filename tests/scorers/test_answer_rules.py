"""The answer rules of ``auditkit.scorers.answers``: each rule on its own examples, and the two
judges built on them measured on their labelled validation sets."""

from __future__ import annotations

import pytest

from auditkit.judges.card import judge_card
from auditkit.scorers.answers import (
    ABSTAINED_KEY,
    NO_SINGLE_ANSWER_KEY,
    answer_key,
    answer_span,
    best_alias,
    contains_answer,
    exact_match,
    judge_short_answer,
    normalize_answer,
    says_no_single_answer,
)


@pytest.mark.parametrize("name", ["short_answer", "answer_agreement"])
def test_judge_agrees_with_its_labels(name: str) -> None:
    assert judge_card(name, split="development").accuracy.value >= 0.95


def outcome(reply: str, *references: str, abstained: bool = False) -> str:
    return judge_short_answer(reply, list(references), abstained=abstained)[0]


def key(reply: str, *references: str, abstained: bool = False) -> str:
    return answer_key(reply, list(references), abstained=abstained)


# -- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("−17 °C", "-17 °c"),  # typographic minus is a sign
        ("minus seventeen degrees Celsius", "-17 °c"),
        ("negative three", "-3"),
        ("+5", "5"),
        ("x = -12", "x -12"),
        ("1990–1995", "1990 1995"),  # a dash between numbers separates them
        ("Ψ and ∞", "ψ and"),  # a Greek letter is a word; a math operator separates
        ("£5 or ₹5", "£ 5 or ₹ 5"),
        ("98 ℉", "98 °f"),
        ("℉", "° f"),  # a unit is only spelled one way after a number
        ("Rh−", "rh -"),
        ("three hundred and twelve", "312"),
        ("2.5 billion", "2500000000"),
        ("12km", "12 km"),
        ("9 metres per second", "9 m s"),
        ("9 m/s", "9 m s"),
        ("Vitamin A", "vitamin a"),  # a final article-like letter is kept
        ("An owl", "owl"),
        ("4.50", "4.5"),
    ],
)
def test_normalisation_keeps_signs_symbols_and_units(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_signs_and_symbols_are_not_dropped() -> None:
    assert not exact_match("-17", "17")
    assert not contains_answer("It is 17 below.", "-17")
    assert contains_answer("It is −17.", "-17")
    assert not exact_match("¥", "€")
    assert not exact_match("Ψ", "")


def test_units_must_agree() -> None:
    assert contains_answer("About 37.5 degrees Celsius.", "37.5 °C")
    assert contains_answer("It is 37.5.", "37.5 °C")  # a bare number is read in the unit
    assert not contains_answer("About 37.5 °F.", "37.5 °C")
    assert not contains_answer("12 cm", "12 mm")
    # a bare reference number takes the unit the other references give it
    assert best_alias("It is 60 °F.", ["60 °C", "60", "140 °F"]) is None
    assert best_alias("It is 60 °C.", ["60 °C", "60", "140 °F"]) == "60 °C"
    # and any unit when none gives it one
    assert best_alias("It is 5000 m high.", ["5000"]) == "5000"


def test_plurals_and_number_words_match() -> None:
    assert contains_answer("Walruses.", "walrus")
    assert contains_answer("A house.", "houses")
    assert contains_answer("Cities", "city")
    assert contains_answer("There are nine of them.", "9")
    assert not contains_answer("The answer is 120.", "12")


# -- reading the reply ------------------------------------------------------------------------


def test_preamble_is_skipped() -> None:
    reply = "Happy to help! Sure thing. The capital of Peru is Lima."
    assert answer_span(reply) == "The capital of Peru is Lima."
    assert outcome(reply, "Lima") == "correct"
    assert answer_span("Nice question — the answer is Lima.") == "the answer is Lima."


def test_correction_counts_what_follows() -> None:
    assert outcome("Lima? No — it's Quito.", "Lima") == "wrong"
    assert outcome("Lima? No — it's Quito.", "Quito") == "correct"
    assert outcome("Quito... actually Lima.", "Lima") == "correct"
    assert outcome("Quito. Wait, Lima.", "Quito") == "wrong"
    # "no" is only a correction after content and as an interjection
    assert outcome("No, it was Lima.", "Lima") == "correct"
    assert outcome("Lima, no doubt.", "Lima") == "correct"
    # "actually" after a plain statement adds detail, it does not correct
    assert outcome("Lima. Actually, it was founded in 1535.", "Lima") == "correct"


def test_negated_and_conceded_mentions_are_not_the_answer() -> None:
    assert outcome("Not Lima but Quito.", "Lima") == "wrong"
    assert outcome("Not Lima but Quito.", "Quito") == "correct"
    assert outcome("Quito, not Lima.", "Lima") == "wrong"
    assert outcome("It isn't Lima; it's Quito.", "Lima") == "wrong"
    assert outcome("Quito, although Lima is larger.", "Lima") == "wrong"
    assert outcome("Although Lima is larger, the answer is Quito.", "Quito") == "correct"


def test_asides_and_appositives_are_not_the_answer() -> None:
    assert outcome("Uranus. (Neptune is farther out.)", "Neptune") == "wrong"
    assert outcome("Uranus, the planet next to Neptune.", "Neptune") == "wrong"
    assert outcome("Neptune (the eighth planet).", "Neptune") == "correct"
    assert outcome("Rupee (₹).", "₹") == "wrong"  # a gloss in brackets is not searched
    assert outcome("f(x) = −2", "-2") == "correct"  # brackets of a formula are kept


def test_only_the_first_clause_of_a_sentence_counts() -> None:
    assert outcome("Adams was the second; Jefferson came third.", "Jefferson") == "wrong"


def test_answer_after_background_sentences() -> None:
    reply = "Lima sits on the Pacific coast. It is the capital of Peru, founded in"
    assert outcome(reply, "Peru") == "correct"
    # but not after a sentence that already gave another answer
    assert outcome("Bolivia. Peru is next door.", "Peru") == "wrong"
    assert outcome("The capital of Peru is Cusco. Lima is the largest city.", "Lima") == "wrong"


def test_shotgun_answers_are_not_correct() -> None:
    assert outcome("Lima, Quito or Bogotá.", "Lima") == "wrong"
    assert outcome("Either Lima or Cusco.", "Lima") == "wrong"
    assert outcome("- Lima\n- Cusco\n- Arequipa", "Lima") == "wrong"
    # several forms of the reference are one answer
    assert outcome("0 °C, or 32 °F.", "0 °C", "32 °F") == "correct"
    assert outcome("1. Lima is the capital.\n2. Lima is on the coast.", "Lima") == "correct"
    assert outcome("More or less 40.", "40") == "correct"


def test_abstention_only_without_an_answer() -> None:
    assert outcome("I couldn't say.", "Lima", abstained=True) == "abstained"
    assert outcome("I'm not sure, but I believe it is Lima.", "Lima", abstained=True) == ("correct")
    assert outcome("Cusco.", "Lima") == "wrong"


def test_evidence_has_the_answer_span() -> None:
    _, evidence = judge_short_answer("Great! Lima, I think.", ["Lima"], abstained=False)
    assert evidence["answer_span"] == "Lima, I think."
    assert evidence["matched_reference"] == "Lima"


# -- answer keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "It really depends on how you define it.",
        "Historians disagree about this.",
        "That is hotly debated.",
        "There's no single correct answer.",
        "There isn't a single one.",
        "It's a matter of personal taste.",
        "The number is unknown.",
        "Nobody really knows.",
        "Estimates vary from 2 to 5 million.",
        "Red if you count hue, otherwise blue.",
        "Seven is just a convention.",
    ],
)
def test_no_single_answer_in_any_words(reply: str) -> None:
    assert says_no_single_answer(reply)
    assert key(reply) == NO_SINGLE_ANSWER_KEY


@pytest.mark.parametrize(
    "reply", ["Blue.", "It's blue, though some see green.", "Seven, by convention.", "No, never."]
)
def test_committed_answers_are_not_no_single_answer(reply: str) -> None:
    assert not says_no_single_answer(reply)


def test_one_answer_in_different_words_has_one_key() -> None:
    assert key("Johann Sebastian Bach.") == key("Bach, of course.") == "bach"
    assert key("The largest ocean is the Pacific.") == key("Pacific.") == "pacific"
    assert key("Lima is the capital.") == key("It's Lima, on the coast.") == "lima"
    assert key("There are 8 planets.") == key("Eight.") == "8"
    assert key("About 2 billion.") == key("Roughly two billion people.")
    assert key("Foxes.") == key("The fox, because it hunts at night.") == "fox"
    assert key("Cusco? No, Lima.") == key("Lima.")
    assert key("Not Cusco but Lima.") == key("Lima.")


def test_different_answers_have_different_keys() -> None:
    assert key("-8") != key("8")
    assert key("8 km") != key("8 m")
    assert key("Lima.") != key("Cusco.")
    assert key("Lima or Cusco.") != key("Lima.")
    assert key("Lima or Cusco.").startswith("<several: ")
    assert key("It depends.") != key("Lima.")


def test_reference_keys() -> None:
    references = ["Lima", "Ciudad de los Reyes"]
    assert key("The capital is Lima.", *references) == "=lima"
    assert key("Ciudad de los Reyes.", *references) == "=lima"
    assert key("I don't know.", *references, abstained=True) == ABSTAINED_KEY
    assert key("Not Lima but Cusco.", *references) == "cusco"
    assert key("Lima, Cusco or Quito.", *references) == "<several: =lima | cusco | quito>"
