"""Answer normalisation and alias matching (exact match, token F1, containment)."""

from __future__ import annotations

import pytest

from auditkit.scorers.answers import (
    answer_span,
    best_alias,
    contains_answer,
    exact_match,
    normalize_answer,
    token_f1,
)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Blue Whale.", "blue whale"),
        ("An apple, a pear", "apple pear"),
        ("Marie Skłodowska-Curie", "marie sklodowska curie"),
        ("H₂O", "h2o"),
        ("300,000 km/s", "300000 km s"),
        ("  Paris!  ", "paris"),
    ],
)
def test_normalisation(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_exact_match_ignores_case_punctuation_and_articles() -> None:
    assert exact_match("The Pacific.", "pacific")
    assert not exact_match("Pacific Ocean", "Pacific")


def test_token_f1_is_squads() -> None:
    # prediction tokens {pacific, ocean}, reference {pacific}: precision 1/2, recall 1.
    assert token_f1("the Pacific Ocean", "Pacific") == pytest.approx(2 / 3)
    assert token_f1("Atlantic", "Pacific") == 0.0
    assert token_f1("", "") == 1.0
    assert token_f1("", "Pacific") == 0.0


def test_containment_needs_whole_tokens() -> None:
    assert contains_answer("The largest animal is the blue whale.", "Blue Whale")
    assert not contains_answer("The answer is 120.", "12")
    assert contains_answer("It is 12.", "12")
    assert not contains_answer("anything", "")


def test_best_alias_returns_the_first_reference_found() -> None:
    assert best_alias("Mitochondria are organelles.", ["mitochondrion", "mitochondria"]) == (
        "mitochondria"
    )
    assert best_alias("Copper.", ["mercury", "Hg"]) is None


def test_answer_span_is_the_first_sentence_of_the_first_line() -> None:
    assert answer_span("\n The capital is Paris. It is in France.\nMore.") == (
        "The capital is Paris."
    )
    assert answer_span("It is approx. 14.4 metres") == "It is approx."
    assert answer_span("") == ""
