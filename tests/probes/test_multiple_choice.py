"""The multiple-choice probe on the deterministic mock model, with metrics worked out by hand.

``mock:shortest`` scores a continuation as minus its length in characters, so with the default
choice prefix " " a choice of k characters gets log-likelihood -(k + 1). Per byte that is -1 for
every ASCII choice, so ``accuracy_norm`` falls back to the first choice on ties.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from auditkit.engine.mock import MockModel
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.multiple_choice import (
    MultipleChoice,
    MultipleChoiceSpec,
    expected_calibration_error,
)
from auditkit.results import Metric
from auditkit.stats import bootstrap_mean_interval
from tests.helpers_suites import ITEMS, softmax, wilson, write_jsonl
from tests.probes.units import assert_units_read_as_before

# Hand-worked outcome of ITEMS on mock:shortest (see ITEMS in helpers_suites):
#   q1 aa|b|cccc, answer b:           logprobs -3 -2 -5 -> picks b (right); per byte all tie -> aa
#   q2 x|yy, answer x:                logprobs -2 -3    -> picks x (right); per byte tie     -> x
#   q3 "long answer"|no, answer 0:    logprobs -12 -3   -> picks no (wrong); per byte tie    -> 0
#   4  ééé|ab, answer ééé:            logprobs -4 -3    -> picks ab (wrong); per byte -4/7 beats
#                                     -3/3, so accuracy_norm picks ééé (right)
SHORTEST_LOGPROBS = [[-3.0, -2.0, -5.0], [-2.0, -3.0], [-12.0, -3.0], [-4.0, -3.0]]
SHORTEST_CHOSEN = [1, 0, 1, 1]
SHORTEST_CHOSEN_NORM = [0, 0, 0, 0]


def make_probe(
    tmp_path: Path, items: list[dict[str, Any]] = ITEMS, **fields: Any
) -> MultipleChoice:
    write_jsonl(tmp_path / "items.jsonl", items)
    spec = MultipleChoiceSpec.model_validate(
        {"id": "mc", "kind": "multiple_choice", "data": "items.jsonl", **fields},
        context={"base_dir": tmp_path},
    )
    return MultipleChoice(spec)


def run(probe: MultipleChoice, model: MockModel | None = None, seed: int = 1) -> ProbeOutput:
    return probe.run(ProbeContext(engine=model or MockModel("shortest"), model_id="m", seed=seed))


def by_name(metrics: list[Metric]) -> dict[tuple[str, str | None], Metric]:
    return {(m.name, m.group): m for m in metrics}


def brier_and_confidence(
    logprobs: list[list[float]], answers: list[int]
) -> tuple[list[float], list[float]]:
    brier, confidence = [], []
    for scores, answer in zip(logprobs, answers, strict=True):
        probs = softmax(scores)
        brier.append(sum((p - (k == answer)) ** 2 for k, p in enumerate(probs)))
        confidence.append(max(probs))
    return brier, confidence


ANSWERS = [item["answer"] for item in ITEMS]


def test_metrics_on_the_shortest_mock(tmp_path: Path) -> None:
    output = run(make_probe(tmp_path))
    assert_units_read_as_before(output.metrics)
    metrics = by_name(output.metrics)

    assert [(m.name, m.group) for m in output.metrics] == [
        ("accuracy", None),
        ("accuracy_norm", None),
        ("brier", None),
        ("ece", None),
        ("accuracy", "math"),
        ("accuracy", "text"),
    ]
    accuracy = metrics[("accuracy", None)]
    assert (accuracy.value, accuracy.n, accuracy.direction, accuracy.interval) == (
        0.5,
        4,
        "higher",
        "wilson",
    )
    assert (accuracy.ci_low, accuracy.ci_high) == pytest.approx(wilson(2, 4), abs=1e-12)
    norm = metrics[("accuracy_norm", None)]
    assert (norm.value, norm.n) == (0.75, 4)
    assert (norm.ci_low, norm.ci_high) == pytest.approx(wilson(3, 4), abs=1e-12)

    brier, confidence = brier_and_confidence(SHORTEST_LOGPROBS, ANSWERS)
    assert metrics[("brier", None)].value == pytest.approx(sum(brier) / 4, abs=1e-12)
    assert (metrics[("brier", None)].direction, metrics[("brier", None)].interval) == (
        "lower",
        "bootstrap",
    )
    # Confidence bins of width 0.1: q1, q2 and item 4 fall in [0.7, 0.8) with 2 of 3 right;
    # q3 in [0.9, 1.0] and wrong.
    assert [math.floor(c * 10) for c in confidence] == [7, 7, 9, 7]
    bin_7 = (confidence[0] + confidence[1] + confidence[3]) / 3
    expected_ece = 3 / 4 * abs(2 / 3 - bin_7) + 1 / 4 * abs(0 - confidence[2])
    assert metrics[("ece", None)].value == pytest.approx(expected_ece, abs=1e-12)
    assert metrics[("ece", None)].n == 4


def test_per_domain_accuracy(tmp_path: Path) -> None:
    metrics = by_name(run(make_probe(tmp_path)).metrics)

    math_items = metrics[("accuracy", "math")]
    text_items = metrics[("accuracy", "text")]
    assert (math_items.value, math_items.n) == (1.0, 2)
    assert (math_items.ci_low, math_items.ci_high) == pytest.approx(wilson(2, 2), abs=1e-12)
    assert (text_items.value, text_items.n) == (0.0, 1)
    assert (text_items.ci_low, text_items.ci_high) == pytest.approx(wilson(0, 1), abs=1e-12)
    assert math_items.description == "accuracy on the math items"


def test_brier_interval_is_the_seeded_bootstrap_of_per_item_scores(tmp_path: Path) -> None:
    probe = make_probe(tmp_path)
    brier, _ = brier_and_confidence(SHORTEST_LOGPROBS, ANSWERS)

    metric = by_name(run(probe, seed=11).metrics)[("brier", None)]

    assert (metric.ci_low, metric.ci_high) == pytest.approx(
        bootstrap_mean_interval(brier, seed=11), abs=1e-12
    )
    assert metric.ci_low <= metric.value <= metric.ci_high


def test_same_seed_same_metrics(tmp_path: Path) -> None:
    probe = make_probe(tmp_path)

    assert run(probe, seed=3).metrics == run(probe, seed=3).metrics
    ece_3 = by_name(run(probe, seed=3).metrics)[("ece", None)]
    ece_4 = by_name(run(probe, seed=4).metrics)[("ece", None)]
    assert ece_3.value == ece_4.value
    assert (ece_3.ci_low, ece_3.ci_high) != (ece_4.ci_low, ece_4.ci_high)


def test_samples_record_each_item(tmp_path: Path) -> None:
    samples = run(make_probe(tmp_path)).samples

    assert [s.item_id for s in samples] == ["q1", "q2", "q3", "4"]
    assert [s.output for s in samples] == ["b", "x", "no", "ab"]
    assert [s.target for s in samples] == ["b", "x", "long answer", "ééé"]
    assert [s.input for s in samples] == [
        f"Question: {item['question']}\nAnswer:" for item in ITEMS
    ]
    assert [s.details["logprobs"] for s in samples] == SHORTEST_LOGPROBS
    assert [s.details["chosen"] for s in samples] == SHORTEST_CHOSEN
    assert [s.details["chosen_norm"] for s in samples] == SHORTEST_CHOSEN_NORM
    assert [s.details["domain"] for s in samples] == ["math", "math", "text", None]
    first = samples[0]
    assert first.details["choices"] == ["aa", "b", "cccc"]
    assert first.details["answer"] == 1
    assert first.scores == {
        "correct": 1.0,
        "correct_norm": 0.0,
        "p_answer": pytest.approx(softmax([-3.0, -2.0, -5.0])[1], abs=1e-12),
        "brier": pytest.approx(
            sum((p - y) ** 2 for p, y in zip(softmax([-3.0, -2.0, -5.0]), [0, 1, 0], strict=True)),
            abs=1e-12,
        ),
    }
    assert [s.scores["correct"] for s in samples] == [1.0, 1.0, 0.0, 0.0]
    assert [s.scores["correct_norm"] for s in samples] == [0.0, 1.0, 1.0, 1.0]


def test_scripted_replies_make_the_right_answer_certain(tmp_path: Path) -> None:
    replies = {"one": "b", "two": "x", "three": "long answer", "four": "ééé"}

    output = run(make_probe(tmp_path), MockModel("shortest", replies=replies))
    metrics = by_name(output.metrics)

    logprobs = [[-3.0, 0.0, -5.0], [0.0, -3.0], [0.0, -3.0], [0.0, -3.0]]
    assert [s.details["logprobs"] for s in output.samples] == logprobs
    assert (metrics[("accuracy", None)].value, metrics[("accuracy_norm", None)].value) == (1.0, 1.0)
    assert (
        metrics[("accuracy", None)].ci_low,
        metrics[("accuracy", None)].ci_high,
    ) == pytest.approx(wilson(4, 4), abs=1e-12)
    brier, confidence = brier_and_confidence(logprobs, ANSWERS)
    assert metrics[("brier", None)].value == pytest.approx(sum(brier) / 4, abs=1e-12)
    # Every item is right and in the top bin, so ECE is 1 minus the mean confidence.
    assert [math.floor(c * 10) for c in confidence] == [9, 9, 9, 9]
    expected_ece = 1 - sum(confidence) / 4
    assert metrics[("ece", None)].value == pytest.approx(expected_ece, abs=1e-12)
    assert (metrics[("accuracy", "math")].value, metrics[("accuracy", "text")].value) == (1.0, 1.0)


def test_the_longest_mock_picks_the_longest_choice(tmp_path: Path) -> None:
    samples = run(make_probe(tmp_path), MockModel("longest")).samples

    assert [s.output for s in samples] == ["cccc", "yy", "long answer", "ééé"]


def test_limit_uses_the_first_items(tmp_path: Path) -> None:
    output = run(make_probe(tmp_path, limit=2))
    metrics = by_name(output.metrics)

    assert [s.item_id for s in output.samples] == ["q1", "q2"]
    assert (metrics[("accuracy", None)].value, metrics[("accuracy", None)].n) == (1.0, 2)
    assert [(m.name, m.group) for m in output.metrics if m.group] == [("accuracy", "math")]


def test_prompt_template_and_choice_prefix(tmp_path: Path) -> None:
    probe = make_probe(tmp_path, prompt="Q: {question}? {question}!\nA:", choice_prefix="")

    samples = run(probe).samples

    assert samples[0].input == "Q: one? one!\nA:"
    # No prefix: a choice of k characters scores -k.
    assert samples[0].details["logprobs"] == [-2.0, -1.0, -4.0]
    assert samples[3].details["logprobs"] == [-3.0, -2.0]


def test_progress_is_announced_per_choice(tmp_path: Path) -> None:
    totals: list[int] = []
    steps: list[int] = []
    ctx = ProbeContext(
        engine=MockModel(), model_id="m", seed=1, set_total=totals.append, advance=steps.append
    )

    make_probe(tmp_path).run(ctx)

    assert totals == [9]
    assert sum(steps) == 9


def test_data_path_is_relative_to_the_base_dir(tmp_path: Path) -> None:
    probe = make_probe(tmp_path)

    assert probe.data_files() == [tmp_path / "items.jsonl"]
    probe.check_data()


def test_built_in_data_set(tmp_path: Path) -> None:
    spec = MultipleChoiceSpec.model_validate({"id": "gk", "kind": "multiple_choice"})
    probe = MultipleChoice(spec)

    output = run(probe)
    metrics = by_name(output.metrics)

    assert probe.data_files()[0].name == "general_knowledge.jsonl"
    assert probe.data_files()[0].is_file()
    assert metrics[("accuracy", None)].n == 200
    assert len(output.samples) == 200
    assert len({s.item_id for s in output.samples}) == 200
    groups = [m for m in output.metrics if m.group is not None]
    assert len(groups) == 10
    assert sum(m.n for m in groups) == 200


def test_bad_data_is_reported_by_check_data(tmp_path: Path) -> None:
    from auditkit.errors import UserError

    probe = make_probe(tmp_path, items=[{"question": "q", "choices": ["a", "b"], "answer": 3}])

    with pytest.raises(UserError) as caught:
        probe.check_data()

    assert caught.value.problems == [
        f"{tmp_path / 'items.jsonl'}:1: item: answer 3 is not an index into 2 choices"
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"prompt": "no placeholder"}, "the prompt template must contain {question}"),
        ({"limit": 0}, "Input should be greater than or equal to 1"),
        ({"data": "missing.jsonl"}, "file not found: {dir}/missing.jsonl"),
        ({"kind": "lm_eval"}, "Input should be 'multiple_choice'"),
    ],
)
def test_spec_validation(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MultipleChoiceSpec.model_validate(
            {"id": "mc", "kind": "multiple_choice", **fields}, context={"base_dir": tmp_path}
        )

    [error] = caught.value.errors()
    assert error["msg"].removeprefix("Value error, ") == message.replace("{dir}", str(tmp_path))


def test_expected_calibration_error_by_hand() -> None:
    import numpy as np

    confidence = np.array([0.95, 0.95, 0.55, 1.0])
    correct = np.array([1.0, 0.0, 1.0, 1.0])

    # Bin 9 holds 0.95, 0.95 and 1.0 (the top edge joins the last bin): 2 of 3 right.
    expected = 3 / 4 * abs(2 / 3 - (0.95 + 0.95 + 1.0) / 3) + 1 / 4 * abs(1 - 0.55)
    assert expected_calibration_error(confidence, correct) == pytest.approx(expected, abs=1e-12)
    assert math.isnan(expected_calibration_error(np.array([]), np.array([])))
