"""The speech-recognition interface (task ``speech-recognition``): audio in, transcripts out.

Engines: ``engine/whisper_hf.py`` (Whisper through transformers) and ``engine/whisper_ct2.py``
(a CTranslate2 conversion through faster-whisper). Probes see only ``SpeechRecognizer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from auditkit.engine.base import ProgressCallback, describe_interface

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
"""Speech recognisers here take mono float32 audio at 16 kHz (Whisper's rate)."""


@dataclass(frozen=True, eq=False)
class AudioClip:
    """One utterance: mono float32 samples in [-1, 1] at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


@runtime_checkable
class SpeechRecognizer(Protocol):
    """What probes may ask of a speech recogniser."""

    @property
    def name(self) -> str: ...

    def transcribe(
        self, clips: Sequence[AudioClip], progress: ProgressCallback | None = None
    ) -> list[str]:
        """The greedy (beam size 1) transcript of each clip, in the model's own spelling."""
        ...


describe_interface(SpeechRecognizer, "a speech recogniser (task: speech-recognition)")
