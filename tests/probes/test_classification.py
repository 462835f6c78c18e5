"""The ``classification`` probe on a scripted classifier: every metric equals a hand computation
(or scikit-learn's), labels map, and bad data is reported as ``FILE:LINE`` before any model."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from auditkit.errors import UserError
from auditkit.probes._classification_metrics import F1, PRECISION, RECALL, Outcome
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.classification import CONFUSION_ITEM, Classification, ClassificationSpec
from auditkit.results import Metric
from tests.probes.units import assert_units_read_as_before

LABELS = ["negative", "neutral", "positive"]

# text → (gold label, group, P(negative), P(neutral), P(positive))
CASES: dict[str, tuple[str, str | None, float, float, float]] = {
    "great soup": ("positive", "food", 0.05, 0.05, 0.90),  # right, confidence 0.9
    "fine pasta": ("positive", "food", 0.60, 0.10, 0.30),  # wrong (negative), 0.6
    "cold fries": ("negative", "travel", 0.70, 0.10, 0.20),  # right, 0.7
    "slow train": ("negative", "travel", 0.30, 0.50, 0.20),  # wrong (neutral), 0.5
    "lost bag": ("negative", "travel", 0.80, 0.10, 0.10),  # right, 0.8
    "nice view": ("positive", None, 0.45, 0.00, 0.55),  # right, 0.55, no group
}


class ScriptedSentiment:
    """A sequence classifier whose probabilities are looked up by text."""

    name = "scripted-sentiment"
    labels: ClassVar[list[str]] = LABELS

    def classify(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> list[dict[str, float]]:
        return [dict(zip(LABELS, CASES[text][2:], strict=True)) for text in texts]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def case_rows() -> list[dict[str, Any]]:
    rows = []
    for text, (label, group, *_) in CASES.items():
        rows.append({"text": text, "label": label, **({"group": group} if group else {})})
    return rows


def probe(data: Path, **options: Any) -> Classification:
    spec = ClassificationSpec.model_validate(
        {"id": "sentiment", "kind": "classification", "data": str(data), **options}
    )
    return Classification(spec)


def run(data: Path, engine: object | None = None, **options: Any) -> ProbeOutput:
    target = probe(data, **options)
    target.check_data()
    context = ProbeContext(engine=engine or ScriptedSentiment(), model_id="m", seed=3)
    return target.run(context)


def metric(output: ProbeOutput, name: str, group: str | None = None) -> Metric:
    return next(m for m in output.metrics if m.name == name and m.group == group)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "reviews.jsonl", case_rows())


def test_accuracy_and_macro_scores_equal_scikit_learn(data: Path) -> None:
    output = run(data)
    gold = [case[0] for case in CASES.values()]
    predicted = [LABELS[int(np.argmax(case[2:]))] for case in CASES.values()]
    classes = ["negative", "positive"]  # the gold labels: the model's neutral is only an error
    accuracy = metric(output, "accuracy")
    assert accuracy.value == pytest.approx(accuracy_score(gold, predicted)) == pytest.approx(4 / 6)
    assert (accuracy.n, accuracy.interval, accuracy.per_item, accuracy.unit) == (
        6,
        "wilson",
        "correct",
        "share",
    )
    for name, score, by_hand in (
        ("macro_f1", f1_score, (2 / 3 + 0.8) / 2),
        ("macro_precision", precision_score, (2 / 3 + 1.0) / 2),
        ("macro_recall", recall_score, 2 / 3),
    ):
        found = metric(output, name)
        expected = score(gold, predicted, labels=classes, average="macro", zero_division=0)
        assert found.value == pytest.approx(expected) == pytest.approx(by_hand)
        assert found.interval == "bootstrap" and found.ci_low is not None
        assert found.ci_low <= found.value <= (found.ci_high or 0) and found.per_item is None


def test_per_class_scores(data: Path) -> None:
    output = run(data)
    assert metric(output, "precision", "negative").value == pytest.approx(2 / 3)
    assert metric(output, "precision", "negative").n == 3
    assert metric(output, "recall", "negative").value == pytest.approx(2 / 3)
    assert metric(output, "f1", "negative").value == pytest.approx(2 / 3)
    assert metric(output, "precision", "positive").value == 1.0
    assert metric(output, "precision", "positive").n == 2
    assert metric(output, "recall", "positive").value == pytest.approx(2 / 3)
    assert metric(output, "f1", "positive").value == pytest.approx(0.8)
    assert not [m for m in output.metrics if m.group == "neutral"]  # not a gold class


def test_calibration_by_hand(data: Path) -> None:
    output = run(data)
    # Six different bins of 15 (0.9 → 13, 0.6 → 9, 0.7 → 10, 0.5 → 7, 0.8 → 12, 0.55 → 8): the
    # ECE is the mean of |correct − confidence|.
    ece = (0.1 + 0.6 + 0.3 + 0.5 + 0.2 + 0.45) / 6
    assert metric(output, "ece").value == pytest.approx(ece)
    assert metric(output, "ece").direction == "lower"
    brier = [
        0.05**2 + 0.05**2 + 0.1**2,
        0.6**2 + 0.1**2 + 0.7**2,
        0.3**2 + 0.1**2 + 0.2**2,
        0.7**2 + 0.5**2 + 0.2**2,
        0.2**2 + 0.1**2 + 0.1**2,
        0.45**2 + 0.0 + 0.45**2,
    ]
    assert metric(output, "brier").value == pytest.approx(sum(brier) / 6)
    assert metric(output, "brier").per_item == "brier"
    samples = {s.item_id: s for s in output.samples}
    assert [samples[str(i)].scores["brier"] for i in range(1, 7)] == pytest.approx(brier)


def test_ece_bins_are_fifteen_equal_widths(tmp_path: Path) -> None:
    # Two right answers at 0.90 and 0.93 share bin 13 ([13/15, 14/15)): their gaps average out.
    cases = {"a": ("positive", None, 0.1, 0.0, 0.9), "b": ("negative", None, 0.93, 0.0, 0.07)}
    rows = [{"text": t, "label": c[0]} for t, c in cases.items()]

    class TwoCases(ScriptedSentiment):
        def classify(
            self, texts: Sequence[str], progress: Callable[[int], None] | None = None
        ) -> list[dict[str, float]]:
            return [dict(zip(LABELS, cases[text][2:], strict=True)) for text in texts]

    output = run(write_rows(tmp_path / "two.jsonl", rows), TwoCases())
    assert metric(output, "ece").value == pytest.approx(abs(2 - 0.9 - 0.93) / 2)


def test_accuracy_per_group_and_the_gap(data: Path) -> None:
    output = run(data)
    food, travel = metric(output, "accuracy", "food"), metric(output, "accuracy", "travel")
    assert (food.value, food.n) == (0.5, 2)
    assert (travel.value, travel.n) == (pytest.approx(2 / 3), 3)
    gap = metric(output, "accuracy_group_gap")
    assert gap.value == pytest.approx(2 / 3 - 1 / 2)
    assert gap.direction == "lower" and gap.ci_low is not None and gap.n == 6
    assert_units_read_as_before(output.metrics)


def test_samples_and_the_confusion_matrix(data: Path) -> None:
    output = run(data)
    first = output.samples[0]
    assert (first.item_id, first.input, first.output, first.target) == (
        "1",
        "great soup",
        "positive",
        "positive",
    )
    assert first.details["probabilities"] == {"negative": 0.05, "neutral": 0.05, "positive": 0.9}
    assert first.details["group"] == "food" and first.scores["correct"] == 1.0
    summary = output.samples[-1]
    assert summary.item_id == CONFUSION_ITEM and summary.scores == {}
    assert summary.details == {
        "labels": ["negative", "neutral", "positive"],
        "matrix": [[2, 1, 0], [0, 0, 0], [1, 0, 2]],  # rows gold, columns predicted
    }
    assert summary.output == "" and summary.input.startswith("confusion matrix of 6 texts")


def test_the_bootstrap_statistic_equals_scikit_learn_on_any_resample() -> None:
    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 3, 40), rng.integers(0, 4, 40)
    probabilities = np.full((40, 4), 0.25)
    outcome = Outcome(["a", "b", "c", "d"], truth, predicted, probabilities, [None] * 40)
    for _ in range(5):
        idx = rng.integers(0, 40, 40)
        classes = sorted(set(truth.tolist()))
        args = (truth[idx], predicted[idx])
        options: dict[str, Any] = {"labels": classes, "average": None, "zero_division": 0}
        scores = outcome.class_scores(idx)
        assert scores[PRECISION] == pytest.approx(precision_score(*args, **options))
        assert scores[RECALL] == pytest.approx(recall_score(*args, **options))
        assert scores[F1] == pytest.approx(f1_score(*args, **options))


def test_label_map_renames_the_data_labels(tmp_path: Path) -> None:
    rows = case_rows()
    for row in rows:
        row["label"] = {"negative": 0, "positive": 1}[row["label"]]  # numbers, as often
    data = write_rows(tmp_path / "numbers.jsonl", rows)
    mapped = run(data, label_map={0: "negative", "1": "positive"})
    assert metric(mapped, "macro_f1").value == pytest.approx((2 / 3 + 0.8) / 2)
    assert mapped.samples[0].target == "positive"
    assert mapped.samples[0].details["data_label"] == "1"


def test_labels_the_model_lacks_are_one_clear_error(tmp_path: Path) -> None:
    rows = [*case_rows(), {"text": "great soup", "label": "mixed"}]
    data = write_rows(tmp_path / "mixed.jsonl", rows)
    with pytest.raises(ValueError) as raised:
        run(data, label_map={"positive": "POSITIVE"})
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        f"{data}: the data's labels POSITIVE, mixed, negative include POSITIVE, mixed, which "
        "scripted-sentiment does not have (its labels: negative, neutral, positive); map them "
        "with label_map"
    )


def problems(target: Classification) -> list[str]:
    with pytest.raises(UserError) as raised:
        target.check_data()
    return raised.value.problems


def test_bad_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "great soup", "label": "positive", "id": "a"}\n'
        '{"text": "", "label": "negative"}\n'
        "\n"
        '{"label": "negative"}\n'
        '{"text": "cold fries", "label": true}\n'
        "[1, 2]\n"
        "{not json\n"
        '{"text": "lost bag", "label": "negative", "id": "a"}\n',
        encoding="utf-8",
    )
    assert problems(probe(path)) == [
        f"{path}:2: text: empty",
        f"{path}:4: text: missing",
        f"{path}:5: label: must be text or a whole number",
        f"{path}:6: not a JSON object",
        f"{path}:7:2: not valid JSON: Expecting property name enclosed in double quotes",
        f"{path}:8: id 'a' repeats line 1",
    ]


def test_csv_with_its_own_column_names(tmp_path: Path, data: Path) -> None:
    lines = ["review,sentiment,domain"]
    for text, (label, group, *_) in CASES.items():
        lines.append(f'"{text}",{label},{group or ""}')
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    options = {"text_field": "review", "label_field": "sentiment", "group_field": "domain"}
    from_csv, from_jsonl = run(path, **options), run(data)
    assert [(m.name, m.group, m.value) for m in from_csv.metrics] == [
        (m.name, m.group, m.value) for m in from_jsonl.metrics
    ]


def test_bad_csv_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("review,label\ngreat soup,positive\n", encoding="utf-8")
    assert problems(probe(path)) == [f"{path}:1: no column 'text' (columns: review, label)"]
    path.write_text("text,label\ngreat soup,positive,extra\ncold fries,\n", encoding="utf-8")
    assert problems(probe(path)) == [
        f"{path}:2: more cells than header columns",
        f"{path}:3: label: empty",
    ]
    path.write_text("text,label\n", encoding="utf-8")
    assert problems(probe(path)) == [f"{path}: no items (the file is empty)"]
    path.write_text("text,label\ngreat soup,positive\n", encoding="utf-8")
    assert problems(probe(path, group_field="domain")) == [
        f"{path}:1: no column 'domain' (columns: text, label)"
    ]


def test_groups_are_optional_unless_named(tmp_path: Path) -> None:
    rows = [{"text": row["text"], "label": row["label"]} for row in case_rows()]
    data = write_rows(tmp_path / "plain.jsonl", rows)
    output = run(data)
    assert not [m for m in output.metrics if m.name == "accuracy_group_gap"]
    assert [m.group for m in output.metrics if m.name == "accuracy"] == [None]
    assert problems(probe(data, group_field="domain")) == [f"{data}: no row has a 'domain' value"]
    assert run(data, group_field=None).metrics == output.metrics


def test_the_shipped_data_reads(tmp_path: Path) -> None:
    target = Classification(
        ClassificationSpec.model_validate({"id": "s", "kind": "classification"})
    )
    items = target.items()
    assert len(items) == 60 and {i.label for i in items} == {"negative", "positive"}
    assert {i.group for i in items} == {"food", "electronics", "travel"}
    assert target.data_files()[0].name == "sentiment_reviews.jsonl"
