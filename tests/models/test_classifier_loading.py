"""Sequence classifiers: ``task: sequence-classification`` loads a transformers classifier whose
engine gives label probabilities, and probes of the wrong kind fail with a clear error row."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from auditkit.engine.base import LanguageModel, engine_as
from auditkit.engine.classifier import HFSequenceClassifier, WrongModelTask
from auditkit.errors import UserError
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec
from auditkit.progress import LogProgress
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from tests.tiny_classifiers import build_bert_classifier


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tiny-bert"
    build_bert_classifier(folder, labels=["ok", "toxic"], seed=3)
    return folder


def spec_for(folder: Path, **fields: object) -> ModelSpec:
    return ModelSpec.model_validate(
        {"id": "bert", "source": f"hf:{folder}", "task": "sequence-classification", **fields},
        context={"base_dir": folder.parent},
    )


def test_loads_a_classifier_with_label_probabilities(bert_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    loaded = load_model(spec_for(bert_dir), "cpu")
    engine = loaded.engine
    assert isinstance(engine, HFSequenceClassifier)
    assert engine.labels == ["ok", "toxic"]
    assert loaded.info.architecture == "BertForSequenceClassification"
    texts = ["you are an idiot", "have a nice day", "my friend is deaf"]
    probabilities = engine.classify(texts)
    assert all(sum(p.values()) == pytest.approx(1.0) for p in probabilities)

    reference = AutoModelForSequenceClassification.from_pretrained(bert_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(bert_dir)
    with torch.no_grad():
        logits = reference(**tokenizer(texts, return_tensors="pt", padding=True)).logits
    expected = torch.softmax(logits, dim=-1)[:, 1].tolist()
    assert [p["toxic"] for p in probabilities] == pytest.approx(expected, abs=1e-5)


def test_batches_do_not_change_probabilities(bert_dir: Path) -> None:
    engine = load_model(spec_for(bert_dir), "cpu").engine
    assert isinstance(engine, HFSequenceClassifier)
    texts = ["idiot", "a much longer sentence about a cat on a mat", "hello"]
    together = engine.classify(texts)
    engine.batch_size = 1
    alone = engine.classify(texts)
    for a, b in zip(together, alone, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_a_classifier_is_not_a_language_model(bert_dir: Path) -> None:
    engine = load_model(spec_for(bert_dir), "cpu").engine
    assert not isinstance(engine, LanguageModel)  # one interface per task, no raising stubs
    with pytest.raises(WrongModelTask, match=r"qa needs a language model.*bert is a sequence"):
        engine_as(engine, LanguageModel, "qa")


def test_gguf_files_cannot_be_classifiers(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    with pytest.raises(ValidationError, match="GGUF files hold causal language models"):
        ModelSpec.model_validate(
            {"id": "x", "source": "gguf:model.gguf", "task": "sequence-classification"},
            context={"base_dir": tmp_path},
        )


SUITE = """\
schema_version: 1
name: classifier-demo
seed: 3
device: cpu
models:
  - id: bert
    source: hf:{folder}
    task: sequence-classification
  - id: mock
    source: mock:abstain
probes:
  - id: fairness
    kind: bias.group_fairness
    limit: 20
  - id: fabricated
    kind: hallucination.fabricated_entities
    limit: 2
"""


def test_a_probe_paired_with_a_model_of_another_task_fails_validation(
    bert_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(folder=bert_dir), encoding="utf-8")
    with pytest.raises(UserError) as raised:
        load_suite(path)
    problems = raised.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:13:")  # the fairness probe's kind line
    assert (
        "bias.group_fairness runs on text-classification models; model 'mock' is" in (problems[0])
    )
    assert problems[1].startswith(f"{path}:16:")
    assert "model 'bert' is text-classification" in problems[1]


def test_a_classifier_runs_its_probes_beside_a_scorer_probe(bert_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    suite_text = SUITE.format(folder=bert_dir).split("  - id: mock")[0] + (
        "probes:\n  - id: fairness\n    kind: bias.group_fairness\n    limit: 20\n"
        "  - id: scorer-fairness\n    kind: bias.group_fairness\n    limit: 8\n"
        "    scorer: profanity-check\n"
    )
    path.write_text(suite_text, encoding="utf-8")
    result = AuditRun(
        load_suite(path), tmp_path / "out", LogProgress(stream=io.StringIO())
    ).execute()
    assert [(p.probe_id, p.status) for p in result.models[0].probes] == [
        ("fairness", "ok"),
        ("scorer-fairness", "ok"),
    ]
