"""The NLI judges on a tiny random BERT NLI classifier built on the spot: labels, determinism,
the combination with the rules, cards on the rule judges' validation sets, the probes, suites."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.engine.mock import MockModel
from auditkit.errors import UserError
from auditkit.judges import judge_named
from auditkit.judges.abstention import AbstentionRow
from auditkit.judges.card import judge_card
from auditkit.judges.nli import (
    ABSTENTION_HYPOTHESIS,
    NLIJudgeSpec,
    NLILabels,
    NLIModel,
    nli_labels,
    nli_model,
)
from auditkit.judges.premise import PremiseRow
from auditkit.judges.rejudge import all_cards
from auditkit.probes.hallucination import FabricatedEntities, FalsePremise
from auditkit.suite import load_suite
from tests.helpers_suites import problems_of, write_suite
from tests.probes.test_hallucination import FABRICATED, PREMISE_REPLIES, PREMISES, make, metric
from tests.probes.test_hallucination import run as run_probe
from tests.tiny_classifiers import build_bert_classifier

NLI_CLASSES = ["entailment", "neutral", "contradiction"]


@pytest.fixture(scope="module")
def nli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nli") / "nli-model"
    build_bert_classifier(folder, labels=NLI_CLASSES)
    return folder


@pytest.fixture(scope="module")
def sentiment_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sentiment") / "sentiment-model"
    build_bert_classifier(folder, labels=["negative", "positive"])
    return folder


def premise_rows() -> list[PremiseRow]:
    return [
        PremiseRow(
            question=item["question"],
            false_premise=item["false_premise"],
            premise_keywords=item["premise_keywords"],
            correction_keywords=item["correction_keywords"],
            reply=reply,
        )
        for item, reply in zip(PREMISES, PREMISE_REPLIES.values(), strict=True)
    ]


# -- labels -----------------------------------------------------------------------------------


def test_labels_are_found_in_id2label(nli_dir: Path) -> None:
    assert nli_labels(nli_dir) == NLILabels(("entailment", "neutral", "contradiction"), 0, 2)


def test_labels_match_case_insensitively_in_any_order(tmp_path: Path, nli_dir: Path) -> None:
    folder = tmp_path / "shuffled"
    shutil.copytree(nli_dir, folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["id2label"] = {"0": "CONTRADICTION", "1": "Neutral", "2": "Entailment"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert nli_labels(folder) == NLILabels(("CONTRADICTION", "Neutral", "Entailment"), 2, 0)


def test_a_folder_without_nli_labels_is_refused(sentiment_dir: Path) -> None:
    with pytest.raises(ValueError, match="does not name one entailment and one contradiction"):
        nli_labels(sentiment_dir)
    with pytest.raises(UserError, match=r"negative, positive\) does not name one entailment"):
        judge_named("premise-nli", source=sentiment_dir)
    with pytest.raises(ValidationError, match="not an NLI model"):
        NLIJudgeSpec.model_validate(
            {"source": "hf:./sentiment-model"}, context={"base_dir": sentiment_dir.parent}
        )


def test_a_missing_folder_or_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="NLI model folder not found"):
        judge_named("abstention-nli", source=tmp_path / "nowhere")
    with pytest.raises(UserError, match="needs a local NLI model"):
        judge_named("premise-nli")
    for source, message in [
        ("hf:./nowhere", "NLI model folder not found"),
        ("roberta-large-mnli", "write 'hf:./DIR'"),
        ("hf:roberta-large-mnli", "download the model ahead of time"),
    ]:
        with pytest.raises(ValidationError, match=message):
            NLIJudgeSpec.model_validate({"source": source}, context={"base_dir": tmp_path})


# -- verdicts ---------------------------------------------------------------------------------


def test_verdicts_are_deterministic(nli_dir: Path) -> None:
    rows = premise_rows()
    first = judge_named("premise-nli", source=nli_dir, threshold=0.01).judge_many(rows)
    judge: Any = judge_named("premise-nli", source=nli_dir, threshold=0.01, batch_size=2)
    judge.model = NLIModel(nli_dir)  # another instance, and other batches
    second = judge.judge_many(rows)
    assert [v.label for v in first] == [v.label for v in second]
    for a, b in zip(first, second, strict=True):
        assert a.evidence["nli"] == pytest.approx(b.evidence["nli"], abs=1e-4)
        assert a.evidence["decided_by"] == "nli"  # threshold 0.01: the model always decides
        assert set(a.evidence["nli"]) == set(NLI_CLASSES)
        assert a.label in ("corrected", "accepted")


class FixedNLI:
    """A stand-in NLI model giving each premise text the probabilities it is mapped to."""

    labels = NLILabels(tuple(NLI_CLASSES), 0, 2)

    def __init__(self, probabilities: dict[str, tuple[float, float, float]]) -> None:
        self.by_text = probabilities
        self.asked: list[tuple[str, str]] = []

    def probabilities(
        self, premises: Sequence[str], hypotheses: Sequence[str], *, batch_size: int = 16
    ) -> list[dict[str, float]]:
        self.asked += list(zip(premises, hypotheses, strict=True))
        return [dict(zip(NLI_CLASSES, self.by_text[p], strict=True)) for p in premises]

    def entailment(self, probs: dict[str, float]) -> float:
        return probs["entailment"]

    def contradiction(self, probs: dict[str, float]) -> float:
        return probs["contradiction"]


def with_model(name: str, nli_dir: Path, fixed: FixedNLI, **options: Any) -> Any:
    judge: Any = judge_named(name, source=nli_dir, **options)
    judge.model = fixed
    return judge


def test_premise_nli_decides_when_sure_and_the_rules_otherwise(nli_dir: Path) -> None:
    rows = premise_rows()
    fixed = FixedNLI(
        {
            rows[0].reply: (0.1, 0.2, 0.7),  # rules: accepted; NLI: contradiction
            rows[1].reply: (0.8, 0.1, 0.1),  # rules: corrected; NLI: entailment
            rows[2].reply: (0.3, 0.4, 0.3),  # unsure: rules (abstained)
            rows[3].reply: (0.45, 0.1, 0.45),  # unsure: rules (other)
            rows[4].reply: (0.2, 0.3, 0.5),  # exactly the threshold: NLI
        }
    )
    verdicts = with_model("premise-nli", nli_dir, fixed).judge_many(rows)
    assert [v.label for v in verdicts] == [
        "corrected",
        "accepted",
        "abstained",
        "other",
        "corrected",
    ]
    assert [v.evidence["decided_by"] for v in verdicts] == ["nli", "nli", "rules", "rules", "nli"]
    assert [v.evidence["rules"] for v in verdicts] == [
        "accepted",
        "corrected",
        "abstained",
        "other",
        "accepted",
    ]
    assert verdicts[0].evidence["nli"] == {
        "entailment": 0.1,
        "neutral": 0.2,
        "contradiction": 0.7,
    }
    assert fixed.asked[0] == (rows[0].reply, "Helium is heavier than air.")
    assert verdicts[0].evidence["nli_hypothesis"] == "Helium is heavier than air."


def test_premise_nli_leaves_rows_without_a_false_premise_to_the_rules(nli_dir: Path) -> None:
    row = PremiseRow(question="Why?", reply="I don't know.")
    fixed = FixedNLI({})
    (verdict,) = with_model("premise-nli", nli_dir, fixed).judge_many([row])
    assert (verdict.label, verdict.evidence["decided_by"]) == ("abstained", "rules")
    assert fixed.asked == [] and "nli" not in verdict.evidence


def test_abstention_nli_adds_abstentions_it_is_sure_of(nli_dir: Path) -> None:
    replies = ["Mount Zog is 3,120 metres tall.", "No idea, honestly.", "I couldn't find it."]
    fixed = FixedNLI({replies[0]: (0.2, 0.7, 0.1), replies[1]: (0.9, 0.05, 0.05)})
    fixed.by_text[replies[2]] = (0.1, 0.1, 0.8)
    judge = with_model("abstention-nli", nli_dir, fixed, threshold=0.6)
    verdicts = judge.judge_many([AbstentionRow(reply=r) for r in replies])
    assert [v.label for v in verdicts] == ["answered", "abstained", "abstained"]
    assert [v.evidence["decided_by"] for v in verdicts] == ["rules", "nli", "rules"]
    assert {hypothesis for _, hypothesis in fixed.asked} == {ABSTENTION_HYPOTHESIS}


# -- cards ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nli", "rules"), [("premise-nli", "premise"), ("abstention-nli", "abstention")]
)
def test_the_card_is_measured_on_the_rule_judges_sets(nli_dir: Path, nli: str, rules: str) -> None:
    card = judge_card(nli, source=nli_dir)
    rule_card = judge_card(rules)
    assert card.judge == nli and card.n == rule_card.n and card.measured_on == "heldout"
    assert [truth for truth, _ in card.pairs] == [truth for truth, _ in rule_card.pairs]
    assert 0.0 <= card.accuracy.value <= 1.0  # a random model: any accuracy
    assert {label.label for label in card.labels} == set(judge_named(rules).labels)


def test_judge_card_command_takes_the_model_folder(nli_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["judge", "--card", "premise-nli", "--source", str(nli_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("premise-nli (rules v1)") and "sensitivity" in result.stdout
    missing = runner.invoke(app, ["judge", "--card", "premise-nli"])
    assert missing.exit_code == 2
    assert "needs a local NLI model" in missing.stderr and "--source DIR" in missing.stderr
    wrong = runner.invoke(app, ["judge", "--card", "premise", "--source", str(nli_dir)])
    assert wrong.exit_code == 2 and "abstention-nli, premise-nli" in wrong.stderr


def test_all_cards_leave_out_the_judges_that_need_a_model() -> None:
    names = {card.judge for card in all_cards()}
    assert "premise" in names and not {"premise-nli", "abstention-nli"} & names


# -- probes and suites ------------------------------------------------------------------------


def test_false_premise_probe_uses_the_nli_judge_and_its_card(tmp_path: Path, nli_dir: Path) -> None:
    shutil.copytree(nli_dir, tmp_path / "nli-model")
    probe = make(
        FalsePremise,
        "hallucination.false_premise",
        tmp_path,
        PREMISES,
        judge={"source": "hf:./nli-model", "threshold": 0.01},
    )
    output = run_probe(probe, MockModel(replies=PREMISE_REPLIES))
    assert all(s.details["judge"] == "premise-nli@1" for s in output.samples)
    assert all(s.details["evidence"]["decided_by"] == "nli" for s in output.samples)
    corrected = metric(output, "correction_rate_corrected")
    assert corrected.interval == "corrected-bootstrap"
    assert "premise-nli judge's" in corrected.interval_text
    assert "premise-nli judge's" in corrected.description
    assert probe.card("premise-nli") is judge_card(
        "premise-nli",
        embeddings=False,
        source=tmp_path / "nli-model",
        device="cpu",
        threshold=0.01,
        batch_size=16,
    )
    assert tmp_path / "nli-model" / "model.safetensors" in probe.data_files()


def test_fabricated_entities_probe_uses_the_nli_judge(tmp_path: Path, nli_dir: Path) -> None:
    probe = make(
        FabricatedEntities,
        "hallucination.fabricated_entities",
        tmp_path,
        FABRICATED,
        judge={"source": f"hf:{nli_dir}"},
    )
    output = run_probe(probe, MockModel("abstain"))
    assert all(s.details["judge"] == "abstention-nli@1" for s in output.samples)
    assert all("nli" in s.details["evidence"] for s in output.samples)
    assert "abstention-nli judge's" in metric(output, "hallucination_rate_corrected").interval_text


SUITE_WITH_NLI = """\
schema_version: 1
name: nli
models:
  - id: a
    source: mock:abstain
probes:
  - id: premises
    kind: hallucination.false_premise
    judge:
      source: hf:./nli-model
      threshold: 0.7
"""


def test_a_suite_with_the_nli_judge_validates(tmp_path: Path, nli_dir: Path) -> None:
    shutil.copytree(nli_dir, tmp_path / "nli-model")
    suite = load_suite(write_suite(tmp_path, SUITE_WITH_NLI))
    judge: NLIJudgeSpec = getattr(suite.probes[0], "judge")  # noqa: B009
    assert judge.path == tmp_path / "nli-model"
    assert (judge.threshold, judge.device, judge.batch_size) == (0.7, "cpu", 16)


def test_a_suite_with_a_bad_nli_judge_names_the_line(tmp_path: Path, sentiment_dir: Path) -> None:
    path = write_suite(tmp_path, SUITE_WITH_NLI)
    missing = problems_of(path)
    assert len(missing) == 1
    assert "probes[0].judge" in missing[0] and "NLI model folder not found" in missing[0]
    shutil.copytree(sentiment_dir, tmp_path / "nli-model")
    (wrong,) = problems_of(path)
    assert "not an NLI model" in wrong
    path.write_text(SUITE_WITH_NLI + "      temperature: 0.2\n", encoding="utf-8")
    (extra,) = problems_of(path)
    assert "temperature" in extra


def test_nli_models_are_loaded_once_per_folder(nli_dir: Path) -> None:
    assert nli_model(nli_dir) is nli_model(nli_dir)
