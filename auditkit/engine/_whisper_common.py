"""What both Whisper engines (``whisper_hf.py``, ``whisper_ct2.py``) share: the clip checks, the
decoding cap and the synthetic clips their ``timed_batch`` transcribes. No heavy imports: the
CTranslate2 engine runs without torch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from auditkit.engine.speech import SAMPLE_RATE, AudioClip

WINDOW_SECONDS = 30.0
"""Whisper's input window: the longest clip one forward pass of the encoder hears."""
MAX_NEW_TOKENS = 224
"""New tokens per window at most: half of Whisper's 448 decoder positions, as OpenAI's decoder
caps them (a smaller model: half of its positions)."""
TIMING_CLIP_SECONDS = 5.0
"""Length of each synthetic clip of ``timed_batch``."""
TIMING_NEW_TOKENS = 24
"""Tokens decoded for every synthetic clip of ``timed_batch``, end of text suppressed until
then: about what five seconds of English speech transcribe to, so that every variant of a model
does the same decoding work whatever it hears in the noise."""
LANGUAGE = "en"


def timing_clips(batch_size: int, *, seed: int) -> list[AudioClip]:
    """``batch_size`` clips of ``TIMING_CLIP_SECONDS`` s of quiet Gaussian noise (standard
    deviation 0.05), drawn from ``seed``."""
    if batch_size < 1:
        raise ValueError("batch size must be positive")
    rng = np.random.default_rng(seed)
    length = int(TIMING_CLIP_SECONDS * SAMPLE_RATE)
    return [
        AudioClip((0.05 * rng.standard_normal(length)).astype(np.float32))
        for _ in range(batch_size)
    ]


def check_clips(
    clips: Sequence[AudioClip], engine: str, *, limit_seconds: float | None = None
) -> None:
    """``ValueError`` for a clip that is not at 16 kHz or is longer than ``limit_seconds``."""
    for number, clip in enumerate(clips, start=1):
        if clip.sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"clip {number} is at {clip.sample_rate} Hz; {engine} takes {SAMPLE_RATE} Hz audio"
            )
        if limit_seconds is not None and clip.seconds > limit_seconds:
            raise ValueError(
                f"clip {number} is {clip.seconds:.1f} s long; {engine} transcribes clips of at "
                f"most {limit_seconds:g} s (one Whisper window) for now: cut it into shorter clips"
            )
