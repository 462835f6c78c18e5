"""``HFSequenceClassifier``: a ``SequenceClassifier`` over a transformers
``AutoModelForSequenceClassification`` model (BERT, RoBERTa, DeBERTa…).

It lives apart from the interface (``engine/classifier.py``) because its resource readings import
torch and transformers, which probes that only name the interface must not pull in at start-up.
Besides ``classify`` it offers ``ResourceModel`` (``TorchResources``) and ``BatchTimingModel``
(``timed_batch``), so the ``latency`` and ``resources`` probes run on classifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from auditkit.engine.base import ProgressCallback, TimedBatch, config_labels
from auditkit.engine.hf_perf import ordinary_token_ids, synthetic_prompts, timed_call
from auditkit.engine.timing import Clock
from auditkit.engine.torch_resources import TorchResources

TIMING_TOKENS = 64
"""Ordinary tokens drawn for each synthetic text of ``timed_batch``."""


class HFSequenceClassifier(TorchResources):
    """A ``SequenceClassifier`` over a transformers sequence-classification model."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        batch_size: int = 32,
        bytes_on_disk: int | None = None,
    ) -> None:
        """``bytes_on_disk`` is the size of the weight files, reported by ``footprint()``."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._name = name
        self.batch_size = batch_size
        self.bytes_on_disk = bytes_on_disk
        config: Any = model.config
        if getattr(config, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
            # Decoder-style classifiers find each row's last token through the pad id.
            config.pad_token_id = tokenizer.pad_token_id
        self._labels = config_labels(config)
        self._multi_label = config.problem_type == "multi_label_classification"
        self._ordinary_ids: torch.Tensor | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def max_length(self) -> int:
        config = self.model.config
        value = getattr(config, "max_position_embeddings", None)
        return value if isinstance(value, int) and value > 0 else 512

    def classify(
        self, texts: Sequence[str], progress: ProgressCallback | None = None
    ) -> list[dict[str, float]]:
        results: list[dict[str, float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            inputs = self.tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            probs = torch.sigmoid(logits) if self._multi_label else torch.softmax(logits, dim=-1)
            results += [dict(zip(self._labels, row, strict=True)) for row in probs.tolist()]
            if progress:
                progress(len(batch))
        return results

    # -- speed (the BatchTimingModel capability) ---------------------------------------------

    def timing_texts(self, batch_size: int, *, seed: int) -> list[str]:
        """``batch_size`` synthetic texts: ``TIMING_TOKENS`` ordinary token ids each, drawn from
        ``seed`` and decoded to text (re-encoding may merge a few of them)."""
        if batch_size < 1:
            raise ValueError("batch size must be positive")
        if self._ordinary_ids is None:
            self._ordinary_ids = ordinary_token_ids(self.tokenizer)
        ids = synthetic_prompts(self._ordinary_ids, batch_size, TIMING_TOKENS, seed)
        return [str(text) for text in self.tokenizer.batch_decode(ids.tolist())]

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        """``classify`` on ``batch_size`` synthetic texts (``timing_texts``) in one forward pass,
        timed with ``clock`` from tokenisation to the probabilities; units are texts."""
        texts = self.timing_texts(batch_size, seed=seed)
        kept = self.batch_size
        self.batch_size = max(kept, batch_size)  # the whole batch in one call, as asked
        try:
            _, start, end = timed_call(
                clock,
                lambda: self.classify(texts),
                f"batch {batch_size} × {TIMING_TOKENS}-token texts does not fit in device memory",
            )
        finally:
            self.batch_size = kept
        return TimedBatch(batch_size=batch_size, units=float(batch_size), seconds=end - start)
