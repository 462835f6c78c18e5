"""Closing a loaded model frees its weights without a full garbage collection."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from auditkit.models.loader import LoadedModel, load_model
from auditkit.models.spec import ModelSpec


def load_tiny(folder: Path) -> LoadedModel:
    spec = ModelSpec.model_validate(
        {"id": "m", "source": f"hf:{folder}"}, context={"base_dir": "."}
    )
    return load_model(spec, "cpu")


def test_close_frees_the_weights_by_reference_counting(
    tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_tiny(tiny_llama_dir)
    weights = weakref.ref(loaded.engine.model)  # type: ignore[attr-defined]
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *a: collections.append(1) or 0)
    loaded.close()
    assert weights() is None
    assert collections == []


def test_close_collects_when_a_cycle_holds_the_model(
    tiny_llama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_tiny(tiny_llama_dir)
    model = loaded.engine.model  # type: ignore[attr-defined]
    model.cycle = [model]  # a reference cycle through the model
    weights = weakref.ref(model)
    del model
    loaded.close()
    assert weights() is None
