"""Whole audits of the text-classification and text2text families on tiny random models.

The classification suite is ``docs/examples/classification.yaml`` itself with its two checkpoints
replaced by tiny BERT classifiers, so the shipped example is validated and run as written; the
text2text suite runs a log-likelihood and a generating probe on a tiny T5 and a tiny BART.
"""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import pytest

import auditkit
from auditkit.engine.base import BatchTimingModel, ResourceModel
from auditkit.engine.classifier import HFSequenceClassifier
from auditkit.engine.timing import ManualClock
from auditkit.errors import UserError
from auditkit.gates import GateSpec, decide_absolute, decide_relative
from auditkit.outputs import SAMPLES_FILE
from auditkit.progress import LogProgress
from auditkit.report import write_reports
from auditkit.results import AuditResult, GateVerdict
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from tests.tiny_classifiers import build_bert_classifier
from tests.tiny_seq2seq import build_seq2seq

SHIPPED = Path(__file__).parent.parent / "docs" / "examples" / "classification.yaml"
SOURCES = {
    "production-bert": "hf:./models/our-bert",
    "candidate-deberta": "hf:./models/new-deberta",
}


def build_sentiment_classifier(folder: Path, *, seed: int) -> None:
    """A tiny random BERT classifier (negative, positive) that tells the shipped reviews apart:
    its WordPiece vocabulary is trained on them (the toxicity words of ``tiny_classifiers`` read
    them as unknown words) and its weights are drawn wide (std 0.5), so that predictions differ
    between texts and between seeds (seeds 2 and 3: 60% accuracy each, different mistakes)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    reviews = Path(auditkit.__file__).parent / "data" / "classification" / "sentiment_reviews.jsonl"
    corpus = [json.loads(line)["text"] for line in reviews.read_text("utf-8").splitlines()]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.train_from_iterator(
        corpus, trainers.WordPieceTrainer(vocab_size=200, special_tokens=special)
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[(t, tokenizer.token_to_id(t)) for t in ("[CLS]", "[SEP]")],
    )
    BertTokenizerFast(tokenizer_object=tokenizer).save_pretrained(folder)
    torch.manual_seed(seed)
    labels = ["negative", "positive"]
    config = BertConfig(
        vocab_size=200,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        initializer_range=0.5,
        num_labels=2,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)


def run_suite(path: Path, out: Path) -> AuditResult:
    return AuditRun(load_suite(path), out, LogProgress(stream=io.StringIO())).execute()


@pytest.fixture(scope="module")
def classification_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    folder = tmp_path_factory.mktemp("classification")
    text = SHIPPED.read_text(encoding="utf-8")
    for seed, source in enumerate(SOURCES.values(), start=2):
        model = folder / "models" / source.rsplit("/", 1)[1]
        build_sentiment_classifier(model, seed=seed)
        assert text.count(f"source: {source}\n") == 1
    path = folder / "suite.yaml"
    path.write_text(text, encoding="utf-8")  # the sources are relative: the same text runs
    return run_suite(path, folder / "out"), folder / "out"


def test_the_shipped_suite_is_valid_but_for_the_users_checkpoints() -> None:
    with pytest.raises(UserError) as raised:
        load_suite(SHIPPED)
    problems = raised.value.problems
    assert len(problems) == 2
    assert all("not found" in problem and "/models/" in problem for problem in problems)


def verdict(result: AuditResult, model: str, metric: str) -> GateVerdict:
    return next(v for v in result.verdicts if v.model_id == model and v.metric == metric)


def test_the_shipped_classification_suite_runs_with_tiny_classifiers(
    classification_audit: tuple[AuditResult, Path],
) -> None:
    result, _ = classification_audit
    assert result.errors == []
    assert result.baseline == "production-bert"
    for model in result.models:
        assert model.info is not None and model.info.task == "text-classification"
        sentiment = model.probe("sentiment")
        assert sentiment is not None and sentiment.n_samples == 61  # 60 texts + the matrix
        names = {(m.name, m.group) for m in sentiment.metrics}
        assert {("accuracy", None), ("macro_f1", None), ("ece", None), ("brier", None)} <= names
        assert {("accuracy", "food"), ("recall", "positive"), ("accuracy_group_gap", None)} <= names
        speed = model.probe("speed")
        assert speed is not None and speed.metric("items_per_s") is not None


def test_the_paired_gates_compare_the_candidate_with_production(
    classification_audit: tuple[AuditResult, Path],
) -> None:
    result, _ = classification_audit
    found = {(c.metric, c.method) for c in result.comparisons}
    assert ("accuracy", "paired bootstrap interval; exact McNemar test") in found
    assert ("brier", "paired bootstrap interval; sign-flip permutation test") in found
    accuracy = next(c for c in result.comparisons if c.metric == "accuracy")
    by_model = {m.model_id: m.probe("sentiment") for m in result.models}
    base, candidate = (by_model[m] for m in ("production-bert", "candidate-deberta"))
    assert base is not None and candidate is not None
    base_accuracy, candidate_accuracy = base.metric("accuracy"), candidate.metric("accuracy")
    assert base_accuracy is not None and candidate_accuracy is not None
    assert accuracy.n == 60
    assert accuracy.difference == pytest.approx(candidate_accuracy.value - base_accuracy.value)
    drop = verdict(result, "candidate-deberta", "accuracy")
    assert drop.rule == "accuracy drop ≤ 0.05 vs production-bert"
    gate = next(g for g in result.probes[0].params["gates"] if g["metric"] == "accuracy")
    expected, _, _ = decide_relative(GateSpec.model_validate(gate), accuracy, sd=0.5)
    assert drop.status == expected
    gap_gate = GateSpec(metric="accuracy_group_gap", max=0.25)
    for model, probe in by_model.items():
        assert probe is not None
        gap = probe.metric("accuracy_group_gap")
        assert gap is not None
        gap_verdict = verdict(result, model, "accuracy_group_gap")
        assert gap_verdict.status == decide_absolute(gap_gate, gap)[0]
    assert not [
        v for v in result.verdicts if v.metric == "accuracy" and v.model_id == "production-bert"
    ]


def test_the_confusion_matrix_is_saved_with_the_samples(
    classification_audit: tuple[AuditResult, Path],
) -> None:
    result, out = classification_audit
    lines = [json.loads(line) for line in (out / SAMPLES_FILE).read_text("utf-8").splitlines()]
    matrices = [line for line in lines if line["item_id"] == "confusion_matrix"]
    assert [m["model_id"] for m in matrices] == ["production-bert", "candidate-deberta"]
    for found in matrices:
        assert found["details"]["labels"] == ["negative", "positive"]
        assert sum(map(sum, found["details"]["matrix"])) == 60
    accuracy = next(c for c in result.comparisons if c.metric == "accuracy")
    answers = {
        model: {
            line["item_id"]: line["output"]
            for line in lines
            if line["model_id"] == model and line["probe_id"] == "sentiment"
        }
        for model in SOURCES
    }
    changed = sum(
        answers["production-bert"][i] != answers["candidate-deberta"][i]
        for i in answers["production-bert"]
    )
    assert accuracy.changed == changed > 0  # the matrix is not an answer that changed


def test_the_scorecard_and_summary_render_the_classification_audit(
    classification_audit: tuple[AuditResult, Path], tmp_path: Path
) -> None:
    result, out = classification_audit
    for model in result.models:
        sentiment = model.probe("sentiment")
        assert sentiment is not None and sentiment.charts == ["per_group", "confusion_matrix"]
    shutil.copy(out / SAMPLES_FILE, tmp_path / SAMPLES_FILE)
    html, markdown = write_reports(result, tmp_path, ["html", "markdown"])
    summary = markdown.read_text(encoding="utf-8")
    for name in ("accuracy", "macro\\_f1", "ece", "brier", "accuracy\\_group\\_gap"):
        assert f"| sentiment | {name} " in summary, name
    page = html.read_text(encoding="utf-8")
    assert "recall" in page  # the per-class rows
    assert page.count("<figcaption>sentiment · ") == 2  # a confusion matrix per model


def test_a_classifier_times_itself_and_reports_its_footprint(tmp_path: Path) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tmp_path / "bert"
    build_bert_classifier(folder, labels=["negative", "positive"])
    engine = HFSequenceClassifier(
        AutoModelForSequenceClassification.from_pretrained(folder),
        AutoTokenizer.from_pretrained(folder),
        name="bert",
        batch_size=2,
        bytes_on_disk=1234,
    )
    assert isinstance(engine, BatchTimingModel) and isinstance(engine, ResourceModel)
    timed = engine.timed_batch(5, ManualClock(), seed=1)
    assert (timed.batch_size, timed.units, timed.seconds) == (5, 5.0, 0.0)
    assert engine.batch_size == 2  # restored after the one-call batch
    texts = engine.timing_texts(3, seed=1)
    assert texts == engine.timing_texts(3, seed=1) and len(set(texts)) == 3
    footprint = engine.footprint()
    assert footprint.bytes_on_disk == 1234 and footprint.parameters > 0


TEXT2TEXT_SUITE = """\
schema_version: 1
name: text2text
seed: 11
device: cpu
models:
  - id: t5
    source: hf:./t5
  - id: bart
    source: hf:./bart
    task: seq2seq
baseline: t5
probes:
  - id: knowledge
    kind: multiple_choice
    limit: 12
    gates:
      - {metric: accuracy, max_drop: 0.5}
  - id: fabricated
    kind: hallucination.fabricated_entities
    limit: 3
    max_new_tokens: 8
"""


def test_a_text2text_suite_scores_and_generates_end_to_end(tmp_path: Path) -> None:
    build_seq2seq(tmp_path / "t5", family="t5")
    build_seq2seq(tmp_path / "bart", family="bart", seed=1)
    path = tmp_path / "suite.yaml"
    path.write_text(TEXT2TEXT_SUITE, encoding="utf-8")
    result = run_suite(path, tmp_path / "out")
    assert result.errors == []
    for model in result.models:
        assert model.info is not None and model.info.task == "text2text"
        knowledge, fabricated = model.probe("knowledge"), model.probe("fabricated")
        assert knowledge is not None and fabricated is not None
        accuracy = knowledge.metric("accuracy")
        assert accuracy is not None and accuracy.n == 12 and 0 <= accuracy.value <= 1
        assert fabricated.n_samples == 3 and fabricated.metrics
        assert all(math.isfinite(m.value) or m.n == 0 for m in fabricated.metrics)
    assert verdict(result, "bart", "accuracy").status in ("pass", "fail", "inconclusive")
