from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_models import build_llama


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny random Llama (safetensors) and its tokenizer, built once per run."""
    return build_llama(tmp_path_factory.mktemp("models") / "tiny-llama")
