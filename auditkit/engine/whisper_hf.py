"""``HFWhisper``: a ``SpeechRecognizer`` over a transformers Whisper model
(``AutoModelForSpeechSeq2Seq`` with the ``AutoProcessor`` saved beside it).

Decoding is greedy (one beam, no sampling, no temperature fallback), without timestamps, on clips
of at most 30 s (one Whisper window: longer clips need the long-form algorithm, which is not
wired up yet and is refused with a clear error). A multilingual model is told to transcribe
English, so that it neither detects a language nor translates; an English-only model gets no
language or task tokens. Besides ``transcribe`` the engine offers ``ResourceModel``
(``TorchResources``) and ``BatchTimingModel`` (``timed_batch``) for the ``latency`` and
``resources`` probes.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import GenerationConfig, PreTrainedModel

from auditkit.engine._whisper_common import (
    LANGUAGE,
    MAX_NEW_TOKENS,
    TIMING_CLIP_SECONDS,
    TIMING_NEW_TOKENS,
    WINDOW_SECONDS,
    check_clips,
    timing_clips,
)
from auditkit.engine.base import ProgressCallback, TimedBatch
from auditkit.engine.hf_perf import timed_call
from auditkit.engine.speech import SAMPLE_RATE, AudioClip
from auditkit.engine.timing import Clock
from auditkit.engine.torch_resources import TorchResources


class HFWhisper(TorchResources):
    """A ``SpeechRecognizer`` over a transformers Whisper model and its processor."""

    def __init__(
        self,
        model: PreTrainedModel,
        processor: Any,
        *,
        name: str,
        batch_size: int = 8,
        bytes_on_disk: int | None = None,
    ) -> None:
        """``processor`` is the model's ``AutoProcessor`` (feature extractor and tokenizer);
        ``bytes_on_disk`` is the size of the weight files, reported by ``footprint()``."""
        self.model = model.eval()
        self.processor = processor
        self._name = name
        self.batch_size = batch_size
        self.bytes_on_disk = bytes_on_disk
        # The model's own settings, so that every call decodes the same way and only per-call
        # options are passed to generate.
        self.model.generation_config = greedy_config(model)
        self.multilingual = bool(getattr(model.generation_config, "is_multilingual", False))

    @property
    def name(self) -> str:
        return self._name

    def transcribe(
        self, clips: Sequence[AudioClip], progress: ProgressCallback | None = None
    ) -> list[str]:
        check_clips(clips, "Whisper on transformers", limit_seconds=WINDOW_SECONDS)
        texts: list[str] = []
        for start in range(0, len(clips), self.batch_size):
            batch = clips[start : start + self.batch_size]
            texts += self._decode(batch)
            if progress:
                progress(len(batch))
        return texts

    def _decode(self, clips: Sequence[AudioClip], **options: int) -> list[str]:
        """Greedy transcripts of ``clips`` in one ``generate`` call; ``options`` are further
        generation settings (``min_new_tokens``…)."""
        features = self.processor.feature_extractor(
            [clip.samples for clip in clips],
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            return_attention_mask=True,
        )
        dtype = next(self.model.parameters()).dtype
        language: dict[str, str] = {"language": LANGUAGE, "task": "transcribe"}
        with torch.inference_mode(), _quiet_length_warnings():
            ids = self.model.generate(
                features["input_features"].to(self.device, dtype=dtype),
                attention_mask=features["attention_mask"].to(self.device),
                return_timestamps=False,
                **(language if self.multilingual else {}),
                **options,
            )
        decoded = self.processor.tokenizer.batch_decode(ids, skip_special_tokens=True)
        return [str(text).strip() for text in decoded]

    # -- speed (the BatchTimingModel capability) ---------------------------------------------

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        """``batch_size`` synthetic clips (``timing_clips``) transcribed in one call, each to
        exactly ``TIMING_NEW_TOKENS`` tokens, timed with ``clock`` from feature extraction to the
        decoded texts; units are seconds of audio."""
        clips = timing_clips(batch_size, seed=seed)
        _, start, end = timed_call(
            clock,
            lambda: self._decode(
                clips, max_new_tokens=TIMING_NEW_TOKENS, min_new_tokens=TIMING_NEW_TOKENS
            ),
            f"batch {batch_size} × {TIMING_CLIP_SECONDS:g} s clips does not fit in device memory",
        )
        return TimedBatch(
            batch_size=batch_size, units=batch_size * TIMING_CLIP_SECONDS, seconds=end - start
        )


def greedy_config(model: PreTrainedModel) -> GenerationConfig:
    """The model's generation settings made greedy (one beam, no sampling, no temperature
    fallback), with new tokens capped at ``MAX_NEW_TOKENS`` (at half the decoder's positions for
    a smaller decoder) instead of a total length."""
    config = copy.deepcopy(model.generation_config)
    config.num_beams = 1
    config.do_sample = False
    config.temperature = None
    config.max_length = None
    config.min_length = None
    config.max_new_tokens = min(MAX_NEW_TOKENS, int(model.config.max_target_positions) // 2)
    return config


@contextlib.contextmanager
def _quiet_length_warnings() -> Iterator[None]:
    """Silence transformers' generation warnings for one call: Whisper's ``generate`` fills in
    length defaults before it hands over to the generic one, which then warns on every batch that
    ``max_new_tokens`` overrides them — as intended here."""
    logger = logging.getLogger("transformers.generation.utils")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
