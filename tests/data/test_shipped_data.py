"""The data files shipped under ``auditkit/data``: format, ids and counts as each data card states,
and the content rules the cards promise. Fast; no model is loaded.

Each file is checked against its card: the keys in the documented order, ids numbered in file
order, the documented counts, and the rules the card's "How it was built" section promises
(closed-book facts disjoint from the multiple-choice set, counterfactual templates that read
well with every group term, stereotype pairs controlled for length, ...).
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import auditkit
from auditkit.scorers.answers import contains_answer, normalize_answer

DATA = Path(auditkit.__file__).parent / "data"


@dataclass(frozen=True)
class Card:
    """What a data card documents about one JSONL file."""

    path: str
    prefix: str
    count: int
    keys: tuple[str, ...]
    category_key: str | None = None
    category_counts: dict[str, int] | None = None


MC_DOMAINS = (
    "science",
    "geography",
    "history",
    "mathematics",
    "language",
    "computing",
    "biology_health",
    "everyday_reasoning",
    "arts_literature",
    "economics_civics",
)
BIAS_CATEGORIES = (
    "gender",
    "race_ethnicity",
    "religion",
    "nationality",
    "age",
    "disability",
    "sexual_orientation",
    "socioeconomic",
)
CLOSED_BOOK_CATEGORIES = (
    "geography",
    "science",
    "history",
    "arts",
    "math",
    "language",
    "sports_rules",
    "misc",
)

CARDS = [
    Card(
        "classification/sentiment_reviews.jsonl",
        "sr",
        60,
        ("id", "group", "text", "label"),
        "group",
        {"food": 20, "electronics": 20, "travel": 20},
    ),
    Card(
        "multiple_choice/general_knowledge.jsonl",
        "gk",
        200,
        ("id", "domain", "question", "choices", "answer"),
        "domain",
        dict.fromkeys(MC_DOMAINS, 20),
    ),
    Card(
        "hallucination/closed_book.jsonl",
        "cb",
        176,
        ("id", "category", "question", "answer", "aliases"),
        "category",
        dict.fromkeys(CLOSED_BOOK_CATEGORIES, 22),
    ),
    Card(
        "hallucination/false_premise.jsonl",
        "fp",
        90,
        (
            "id",
            "category",
            "question",
            "false_premise",
            "correction",
            "premise_keywords",
            "correction_keywords",
        ),
        "category",
        {
            "science": 14,
            "history": 14,
            "geography": 12,
            "misc": 12,
            "people": 10,
            "arts": 10,
            "technology": 10,
            "health": 8,
        },
    ),
    Card(
        "hallucination/fabricated_entities.jsonl",
        "fe",
        120,
        ("id", "category", "entity", "question"),
        "category",
        dict.fromkeys(("person", "organisation", "place", "paper", "product"), 24),
    ),
    Card(
        "hallucination/self_consistency.jsonl",
        "sc",
        56,
        ("id", "question", "answer", "aliases"),
    ),
    Card(
        "bias/counterfactual_templates.jsonl",
        "ct",
        44,
        ("id", "template", "context"),
        "context",
        {
            "work": 8,
            "crime_justice": 8,
            "health": 7,
            "housing": 7,
            "education": 7,
            "everyday": 7,
        },
    ),
    Card(
        "bias/stereotype_pairs.jsonl",
        "sp",
        136,
        ("id", "category", "stereotype", "anti_stereotype", "group_stereotyped", "group_other"),
        "category",
        dict.fromkeys(BIAS_CATEGORIES, 17),
    ),
    Card(
        "bias/identity_fairness.jsonl",
        "if",
        132,
        ("id", "text", "label", "group", "category"),
        "category",
        dict.fromkeys(BIAS_CATEGORIES, 14) | {"none": 20},
    ),
    Card(
        "toxicity/prompts.jsonl",
        "tp",
        116,
        ("id", "category", "prompt"),
        "category",
        {
            "neutral": 48,
            "provocative": 15,
            "identity": 15,
            "insult_bait": 14,
            "profanity_bait": 12,
            "threat_bait": 12,
        },
    ),
]
CARD_IDS = [card.path for card in CARDS]
GROUPS_FILE = "bias/counterfactual_groups.json"
GROUP_SIZES = {
    "gender": 3,
    "race_ethnicity": 6,
    "religion": 6,
    "nationality": 6,
    "age": 4,
    "disability": 6,
    "sexual_orientation": 4,
}


@cache
def rows(path: str) -> list[dict[str, Any]]:
    with (DATA / path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def card_text(path: str) -> str:
    """The data card beside ``path``: an ``.md`` file in the same folder whose title names it."""
    file = DATA / path
    for card in sorted(file.parent.glob("*.md")):
        title = card.read_text(encoding="utf-8").splitlines()[0]
        if f"`{file.name}`" in title:
            return card.read_text(encoding="utf-8")
    raise AssertionError(f"{path} has no data card beside it")


def words(text: str) -> list[str]:
    """Lower-case words with accents and punctuation dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return re.findall(r"[0-9a-z]+", plain)


# -- every file -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*CARD_IDS, GROUPS_FILE])
def test_every_data_file_has_a_card_beside_it(path: str) -> None:
    assert "## Format" in card_text(path)


@pytest.mark.parametrize("card", CARDS, ids=CARD_IDS)
def test_each_line_is_one_json_object_with_the_documented_keys(card: Card) -> None:
    text = (DATA / card.path).read_text(encoding="utf-8")
    assert text.endswith("\n") and "\n\n" not in text
    for number, line in enumerate(text.splitlines(), 1):
        item = json.loads(line)
        assert isinstance(item, dict), f"line {number}"
        assert tuple(item) == card.keys, f"line {number}: keys {list(item)}"


@pytest.mark.parametrize("card", CARDS, ids=CARD_IDS)
def test_ids_are_numbered_in_file_order_and_counts_match_the_card(card: Card) -> None:
    items = rows(card.path)
    assert [item["id"] for item in items] == [
        f"{card.prefix}-{n:04d}" for n in range(1, card.count + 1)
    ]
    # the card's format table states the id range, and so the count
    assert f"`{card.prefix}-0001` … `{card.prefix}-{card.count:04d}`" in card_text(card.path)
    if card.category_key is not None:
        assert Counter(item[card.category_key] for item in items) == card.category_counts


@pytest.mark.parametrize("card", CARDS, ids=CARD_IDS)
def test_text_fields_are_non_empty_and_trimmed(card: Card) -> None:
    for item in rows(card.path):
        for key, value in item.items():
            if isinstance(value, str):
                assert value and value == value.strip(), (item["id"], key)


# -- multiple choice --------------------------------------------------------------------------

MC = "multiple_choice/general_knowledge.jsonl"


def test_multiple_choice_choices_and_answer_index() -> None:
    for item in rows(MC):
        choices = item["choices"]
        assert len(choices) == 4, item["id"]
        assert all(isinstance(c, str) and 1 <= len(c.split()) <= 8 for c in choices), item["id"]
        assert len({c.strip().casefold() for c in choices}) == 4, item["id"]
        answer = item["answer"]
        assert type(answer) is int and 0 <= answer < len(choices), item["id"]


def test_multiple_choice_answer_positions_are_balanced() -> None:
    positions = Counter((item["domain"], item["answer"]) for item in rows(MC))
    assert positions == {(domain, index): 5 for domain in MC_DOMAINS for index in range(4)}


def test_multiple_choice_questions_are_unique() -> None:
    questions = [" ".join(words(item["question"])) for item in rows(MC)]
    assert len(set(questions)) == len(questions)


# -- closed book ------------------------------------------------------------------------------

CLOSED = "hallucination/closed_book.jsonl"

# Question words too common to say two questions are about the same thing.
STOPWORDS = frozenset(
    """a an and are as at be by called can did do does for from has have how in into is it its
    many much of on one or than that the their there these this to was were what when where
    which who whom whose why with would you your""".split()
)
# An answer with a sign, a unit or a symbol: "-40", "37.5%", "-196 °C", "343 m/s", "CH4", "€".
SIGN_UNIT_SYMBOL = re.compile(r"^[-−]\d|[%°€£$¥²]|[A-Z][a-z]?\d|\d\s?(?:cm|km|mm|kg|m/s|m|g|s)\b")


def stem(word: str) -> str:
    for suffix in ("ness", "ing", "est", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(question: str) -> set[str]:
    """Stemmed words of a question that carry its topic: numbers and non-stopwords of 3+ letters."""
    return {
        stem(word)
        for word in words(question)
        if word not in STOPWORDS and (len(word) >= 3 or word.isdigit())
    }


def references(item: dict[str, Any]) -> list[str]:
    return [item["answer"], *item["aliases"]]


def both_numbers(first: str, second: str) -> bool:
    return all(normalize_answer(text).replace(" ", "").isdigit() for text in (first, second))


def mc_overlaps(item: dict[str, Any]) -> list[str]:
    """Why a closed-book item tests the same fact as a multiple-choice question, if it does.

    Three mechanical signs: the same question after lower-casing and dropping punctuation; a
    closed-book answer equal (after answer normalisation) to the correct choice of a question
    that shares two or more content words with it; or the fact asked backwards, with the
    closed-book answer inside the MC question and the correct choice inside the closed-book
    question (skipped when both are plain numbers, which coincide too easily).
    """
    found = []
    answers = {normalize_answer(ref) for ref in references(item)} - {""}
    for mc in rows(MC):
        right = mc["choices"][mc["answer"]]
        if words(item["question"]) == words(mc["question"]):
            found.append(f"{mc['id']}: same question")
            continue
        shared = content_words(item["question"]) & content_words(mc["question"])
        if len(shared) >= 2 and normalize_answer(right) in answers:
            found.append(f"{mc['id']}: same answer {right!r}, shared words {sorted(shared)}")
            continue
        backwards = any(
            contains_answer(mc["question"], ref) and not both_numbers(ref, right) for ref in answers
        )
        if backwards and contains_answer(item["question"], right):
            found.append(f"{mc['id']}: asked backwards ({right!r})")
    return found


def test_closed_book_answers_and_aliases() -> None:
    for item in rows(CLOSED):
        refs = references(item)
        assert isinstance(item["aliases"], list), item["id"]
        assert all(isinstance(ref, str) and ref.strip() for ref in refs), item["id"]
        assert len(set(refs)) == len(refs), f"{item['id']}: repeated alias"
        assert 1 <= len(item["answer"].split()) <= 4, item["id"]
        # the answer matcher can use at least one reference ("€" alone normalises to nothing)
        assert any(normalize_answer(ref) for ref in refs), item["id"]


def test_closed_book_questions_are_unique() -> None:
    questions = [" ".join(words(item["question"])) for item in rows(CLOSED)]
    assert len(set(questions)) == len(questions)


def test_closed_book_keeps_answers_with_signs_units_and_symbols() -> None:
    marked = [item["answer"] for item in rows(CLOSED) if SIGN_UNIT_SYMBOL.search(item["answer"])]
    assert len(marked) >= 8, marked


def test_closed_book_facts_are_disjoint_from_multiple_choice() -> None:
    overlaps = {item["id"]: found for item in rows(CLOSED) if (found := mc_overlaps(item))}
    assert overlaps == {}


def test_the_overlap_check_catches_the_same_fact_in_other_words() -> None:
    def item(question: str, answer: str) -> dict[str, Any]:
        return {"id": "x", "question": question, "answer": answer, "aliases": []}

    assert mc_overlaps(item("what is the capital city of Canada", "Ottawa"))
    assert mc_overlaps(item("Which author wrote the novel Nineteen Eighty-Four?", "George Orwell"))
    assert not mc_overlaps(item("Which author wrote the novel Nineteen Eighty-Four?", "Huxley"))
    assert mc_overlaps(item("What is 5 factorial?", "120"))
    assert mc_overlaps(item("In which year did the Berlin Wall fall?", "1989"))
    assert not mc_overlaps(item("What is 81 divided by 9?", "9"))


# -- false premise, fabricated entities, self-consistency ------------------------------------

PREMISE = "hallucination/false_premise.jsonl"


def test_false_premise_keywords() -> None:
    for item in rows(PREMISE):
        premise, correction = item["premise_keywords"], item["correction_keywords"]
        for keywords in (premise, correction):
            assert 2 <= len(keywords) <= 5, item["id"]
            assert all(k == k.lower() and k.strip() == k and k for k in keywords), item["id"]
            assert len(set(keywords)) == len(keywords), item["id"]
        assert not set(premise) & set(correction), item["id"]
        assert not [k for k in premise if k in item["correction"].lower()], item["id"]


def test_fabricated_entities_are_named_in_their_question() -> None:
    for item in rows("hallucination/fabricated_entities.jsonl"):
        # the longest word of the name is its coined part ("Cobaltwyn" of "Cobaltwyn OS")
        coined = max(words(item["entity"]), key=len)
        assert coined in words(item["question"]), item["id"]


def test_self_consistency_answers() -> None:
    items = rows("hallucination/self_consistency.jsonl")
    for item in items:
        assert item["answer"] is None or isinstance(item["answer"], str), item["id"]
        assert isinstance(item["aliases"], list), item["id"]
        if item["answer"] is None:
            assert item["aliases"] == [], item["id"]
    assert Counter(item["answer"] is None for item in items) == {False: 42, True: 14}


# -- counterfactual templates -----------------------------------------------------------------

TEMPLATES = "bias/counterfactual_templates.jsonl"

# Nouns that fix an age, a gender, a household or a nationality, so some group term would clash
# with them ("the elderly teenager", "the male mother", "the elderly family", "the German
# immigrant"). Pronouns count too: "he" or "she" after "the non-binary person".
AGE_NOUNS = """baby babies boy boys child children girl girls grandchild grandfather grandma
    grandmother grandpa grandparent granny infant intern kid kids minor pensioner pupil pupils
    retiree schoolboy schoolchild schoolgirl teen teenager teenagers toddler youngster youth
    """.split()
GENDER_NOUNS = """actress aunt boyfriend brother businessman businesswoman chairman dad daughter
    father gentleman girlfriend guy he her hers herself him himself his husband king lady
    landlady man men mother mum mom monk niece nephew nun policeman policewoman queen she
    sister son uncle waitress wife woman women""".split()
HOUSEHOLD_NOUNS = """couple couples family families household""".split()
NATIONALITY_NOUNS = """brit briton englishman expat expats foreigner foreigners frenchman
    immigrant immigrants irishman migrant migrants native refugee refugees scot scotsman
    welshman yank""".split()
CLASHING_NOUNS = frozenset(AGE_NOUNS + GENDER_NOUNS + HOUSEHOLD_NOUNS + NATIONALITY_NOUNS)


@cache
def group_terms() -> dict[str, list[str]]:
    return json.loads((DATA / GROUPS_FILE).read_text(encoding="utf-8"))


def all_terms() -> list[str]:
    return [term for terms in group_terms().values() for term in terms]


def test_group_terms_match_the_card() -> None:
    groups = group_terms()
    assert {category: len(terms) for category, terms in groups.items()} == GROUP_SIZES
    assert len(set(all_terms())) == len(all_terms()) == 35
    for term in all_terms():
        # one adjective that fits "the {group} person": letters, optionally hyphenated
        assert re.fullmatch(r"[A-Za-z]+(?:-[A-Za-z]+)*", term), term


def test_templates_have_one_slot_after_no_article_and_start_with_a_capital() -> None:
    for item in rows(TEMPLATES):
        template = item["template"]
        assert template.count("{group}") == 1, item["id"]
        assert template[0].isupper() and not template.startswith("{group}"), item["id"]
        before = template.split("{group}")[0].split()
        assert not before or before[-1].lower() not in {"a", "an"}, item["id"]


def test_templates_use_no_noun_that_fixes_age_gender_household_or_nationality() -> None:
    for item in rows(TEMPLATES):
        clashes = set(words(item["template"].replace("{group}", " "))) & CLASHING_NOUNS
        assert not clashes, (item["id"], sorted(clashes))


@pytest.mark.parametrize("term", all_terms())
def test_every_template_renders_cleanly_with_every_term(term: str) -> None:
    for item in rows(TEMPLATES):
        text = item["template"].format(group=term)
        tokens = [re.sub(r"[^\w'-]", "", token).lower() for token in text.split()]
        doubled = [a for a, b in itertools.pairwise(tokens) if a and a == b]
        assert not doubled, (item["id"], text)
        assert "{" not in text and "}" not in text and "  " not in text, (item["id"], text)


# -- stereotype pairs -------------------------------------------------------------------------

PAIRS = "bias/stereotype_pairs.jsonl"


def group_phrases(first: str, second: str) -> tuple[str, str]:
    """The differing run of words once the shared leading and trailing words are removed."""
    a, b = first.split(), second.split()
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return " ".join(a[start : len(a) - end]), " ".join(b[start : len(b) - end])


def matched_length(stereo: str, anti: str) -> bool:
    return len(stereo.split()) == len(anti.split()) and abs(len(stereo) - len(anti)) <= 3


def test_stereotype_pairs_differ_in_one_short_contiguous_span() -> None:
    for item in rows(PAIRS):
        stereo, anti = group_phrases(item["stereotype"], item["anti_stereotype"])
        # both sides non-empty: one contiguous span replaced, not a word added or dropped
        assert stereo and anti, item["id"]
        assert len(stereo.split()) <= 4 and len(anti.split()) <= 4, (item["id"], stereo, anti)
        assert item["group_stereotyped"] != item["group_other"], item["id"]


def test_stereotype_pairs_are_unique() -> None:
    sentences = [item["stereotype"] for item in rows(PAIRS)]
    assert len(set(sentences)) == len(sentences)


def test_stereotype_pairs_control_group_phrase_length() -> None:
    phrases = [group_phrases(item["stereotype"], item["anti_stereotype"]) for item in rows(PAIRS)]
    rest = [(stereo, anti) for stereo, anti in phrases if not matched_length(stereo, anti)]
    # at least 60% of pairs: same number of words, at most 3 characters apart
    assert len(phrases) - len(rest) >= 0.6 * len(phrases)
    # among the others, the stereotype phrase is the longer one about half the time
    if rest:
        stereo_longer = sum(len(stereo) > len(anti) for stereo, anti in rest)
        assert 0.45 <= stereo_longer / len(rest) <= 0.55, (stereo_longer, len(rest))


# -- identity fairness, toxicity prompts ------------------------------------------------------


def test_identity_fairness_labels_and_groups() -> None:
    items = rows("bias/identity_fairness.jsonl")
    for item in items:
        assert item["label"] in (0, 1) and type(item["label"]) is int, item["id"]
        assert (item["group"] == "none") == (item["category"] == "none"), item["id"]
    labels = Counter((item["category"], item["label"]) for item in items)
    expected = {(c, 0): 11 for c in BIAS_CATEGORIES} | {(c, 1): 3 for c in BIAS_CATEGORIES}
    assert labels == expected | {("none", 0): 10, ("none", 1): 10}


def test_toxicity_prompts_end_without_punctuation() -> None:
    for item in rows("toxicity/prompts.jsonl"):
        assert item["prompt"][-1] not in ".!?", item["id"]
