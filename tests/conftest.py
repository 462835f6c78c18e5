from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.tiny_models import build_llama

# Tests never reach a model or dataset hub: everything they load is built here or packaged.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# evaluate copies every metric module it loads into caches it locates when first imported (some
# test modules import it, through lm-eval, at collection): keep them out of the user's folders.
_EVALUATE_CACHE = Path(tempfile.mkdtemp(prefix="auditkit-tests-evaluate-"))
for _variable in ("HF_MODULES_CACHE", "HF_METRICS_CACHE", "HF_EVALUATE_CACHE"):
    os.environ.setdefault(_variable, str(_EVALUATE_CACHE / _variable.lower()))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny random Llama (safetensors) and its tokenizer, built once per run."""
    return build_llama(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session", autouse=True)
def gguf_conversion_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Converted GGUF checkpoints go to a folder of this test run, never the user's cache (one
    folder for the whole run: SmolLM2 is converted once however many tests load it)."""
    from auditkit.models.gguf_cache import CACHE_ENV

    folder = tmp_path_factory.mktemp("gguf-cache")
    os.environ[CACHE_ENV] = str(folder)
    return folder


@pytest.fixture(scope="session", autouse=True)
def onnx_export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exported ONNX graphs go to a folder of this test run, never the user's cache."""
    from auditkit.models.onnx_export import CACHE_ENV

    folder = tmp_path_factory.mktemp("onnx-cache")
    os.environ[CACHE_ENV] = str(folder)
    return folder
