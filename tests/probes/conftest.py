"""Fixtures for the probe tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_classifiers import build_bert_classifier


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT sequence classifier (labels ok, toxic) saved as safetensors."""
    folder = tmp_path_factory.mktemp("models") / "tiny-bert"
    build_bert_classifier(folder, labels=["ok", "toxic"])
    return folder
