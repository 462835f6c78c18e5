"""Judges as measured instruments: registry, cards, error-corrected rates, the judge command."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.judges import JUDGES, Judge, ReplyRow, Verdict, judge_named, register_judge
from auditkit.judges.card import card_from_pairs, judge_card
from auditkit.judges.correction import corrected_rate, rogan_gladen

BUILT_IN = {"abstention", "refusal", "premise", "short_answer", "answer_agreement"}


def test_every_built_in_judge_is_registered_without_an_import_list() -> None:
    assert set(JUDGES) >= BUILT_IN
    for name in BUILT_IN:
        judge = judge_named(name)
        assert judge.labels and judge.version and judge.question


def test_a_new_judge_is_one_decorated_class() -> None:
    class EchoRow(ReplyRow):
        pass

    @register_judge
    class Shouting(Judge[EchoRow]):
        name = "test-shouting"
        version = "1"
        labels = ("loud", "quiet")
        Row: ClassVar[type[ReplyRow]] = EchoRow
        question = "Is the reply in capitals?"

        def judge(self, row: EchoRow) -> Verdict:
            return Verdict("loud" if row.reply.isupper() else "quiet")

    try:
        assert judge_named("test-shouting").judge(EchoRow(reply="HEY")).label == "loud"
        register_judge(Shouting)  # the same class again (a module imported twice): no change

        class Other(Shouting):
            pass

        with pytest.raises(TypeError, match="twice"):
            register_judge(Other)  # another class under a taken name
    finally:
        JUDGES.pop("test-shouting")


def test_card_counts_sensitivity_and_specificity_per_label() -> None:
    pairs = [("a", "a")] * 8 + [("a", "b")] * 2 + [("b", "b")] * 9 + [("b", "a")] * 1
    card = card_from_pairs("t", "1", "?", ("a", "b"), pairs)
    assert card.accuracy.value == 17 / 20 and card.n == 20
    a = card.label("a")
    assert (a.sensitivity.value, a.sensitivity.n) == (0.8, 10)
    assert (a.specificity.value, a.specificity.n) == (0.9, 10)
    assert a.sensitivity.ci_low < 0.8 < a.sensitivity.ci_high


def test_rogan_gladen_inverts_the_judges_error() -> None:
    # truth 40% L; a judge with Se 0.9 and Sp 0.8 says L on 0.9·0.4 + 0.2·0.6 = 48%
    assert rogan_gladen(0.48, 0.9, 0.8) == pytest.approx(0.4)
    assert rogan_gladen(0.05, 0.9, 0.8) == 0.0  # clipped
    assert rogan_gladen(0.99, 0.9, 0.8) == 1.0
    assert math.isnan(rogan_gladen(0.5, 0.5, 0.5))  # a judge no better than chance


def test_corrected_rate_carries_the_judges_uncertainty() -> None:
    hits = [1.0] * 48 + [0.0] * 52
    perfect = card_from_pairs("t", "1", "?", ("L", "M"), [("L", "L")] * 50 + [("M", "M")] * 50)
    noisy = card_from_pairs(
        "t",
        "1",
        "?",
        ("L", "M"),
        [("L", "L")] * 45 + [("L", "M")] * 5 + [("M", "M")] * 40 + [("M", "L")] * 10,
    )
    exact = corrected_rate(
        "r_corrected", hits, card=perfect, label="L", seed=0, direction="lower", description=""
    )
    fuzzy = corrected_rate(
        "r_corrected", hits, card=noisy, label="L", seed=0, direction="lower", description=""
    )
    assert exact.value == pytest.approx(0.48)
    assert fuzzy.value == pytest.approx(0.4)
    assert exact.ci_low is not None and exact.ci_high is not None
    assert fuzzy.ci_low is not None and fuzzy.ci_high is not None
    assert fuzzy.ci_high - fuzzy.ci_low > exact.ci_high - exact.ci_low
    assert fuzzy.per_item is None and fuzzy.interval == "corrected-bootstrap"
    assert fuzzy.interval_detail == "the t judge's 100 held-out rows"
    assert fuzzy.interval_text == "bootstrap over items and the t judge's 100 held-out rows"
    assert fuzzy.unit == "share"
    again = corrected_rate(
        "r_corrected", hits, card=noisy, label="L", seed=0, direction="lower", description=""
    )
    assert again == fuzzy  # seeded


def test_every_judge_has_a_development_and_a_held_out_set() -> None:
    for name in BUILT_IN:
        development = judge_card(name, split="development")
        assert development.n >= 150 and development.measured_on == "development", name
        assert {truth for truth, _ in development.pairs} == set(judge_named(name).labels), name
        card = judge_card(name)  # what corrected rates use: the held-out set
        assert card.measured_on == "heldout" and card.n >= 70, name
        assert card.development_accuracy == development.accuracy, name
        assert {truth for truth, _ in card.pairs} == set(judge_named(name).labels), name


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_judge_card_command_prints_every_judge() -> None:
    code, out, _ = invoke("judge", "--card")
    assert code == 0
    for name in BUILT_IN:
        assert f"{name} (rules v" in out
    assert out.count("held-out set, never tuned on") == len(BUILT_IN)
    assert out.count("(the rows the rules were tuned on)") == len(BUILT_IN)
    assert out.count("sensitivity") >= 2 * len(BUILT_IN)


def test_judge_command_judges_rows_naming_shipped_items(tmp_path: Path) -> None:
    rows = tmp_path / "replies.jsonl"
    lines = [
        {"item_id": "fp-0002", "reply": "It doesn't: water boils at a lower temperature there."},
        {"item_id": "fp-0002", "reply": "I'm not sure, sorry.", "label": "abstained"},
    ]
    rows.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    code, out, err = invoke("judge", "premise", rows)
    assert code == 0, err
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["verdict"] for r in results] == ["corrected", "abstained"]
    assert results[0]["judge"].startswith("premise@") and "evidence" in results[0]
    assert err == ""  # not every row is labelled: no card


def test_labelled_rows_are_summarised_as_a_card(tmp_path: Path) -> None:
    rows = tmp_path / "labelled.jsonl"
    lines = [
        {"reply": "I don't know.", "label": "abstained"},
        {"reply": "It was founded in 1820 in Oslo.", "label": "answered"},
    ]
    rows.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    code, _, err = invoke("judge", "abstention", rows)
    assert code == 0
    assert "accuracy     100.0%" in err


def test_judge_command_reports_bad_input_as_exit_2(tmp_path: Path) -> None:
    code, _, err = invoke("judge", "no-such-judge", tmp_path / "x.jsonl")
    assert code == 2 and "unknown judge" in err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"item_id": "fp-9999", "reply": "x"}\n', encoding="utf-8")
    code, _, err = invoke("judge", "premise", broken)
    assert code == 2 and "fp-9999" in err
    code, _, err = invoke("judge", "premise")
    assert code == 2


def test_all_or_none_still_has_an_interval() -> None:
    """20 hits of 20 is not certainty: the corrected interval keeps the items' uncertainty."""
    card = card_from_pairs(
        "t", "1", "?", ("L", "M"), [("L", "L")] * 40 + [("M", "M")] * 38 + [("M", "L")] * 2
    )
    metric = corrected_rate(
        "r_corrected", [1.0] * 20, card=card, label="L", seed=0, direction="lower", description=""
    )
    assert metric.value == 1.0
    assert metric.ci_low is not None and metric.ci_low < 0.95
