"""``CT2Whisper``: a ``SpeechRecognizer`` over a Whisper model converted for CTranslate2, run
through faster-whisper's ``WhisperModel``.

Decoding matches ``HFWhisper``'s: one beam, temperature 0 and no fallback, no voice-activity
filter, no silence skipping, English (``language="en"``, task ``transcribe``), no timestamps, and
no conditioning on earlier text; at most 224 new tokens per 30 s window. faster-whisper
transcribes one clip per call (a clip longer than 30 s is decoded window after window), so a
batch is a sequence of calls.

The ``ResourceModel`` readings say what can be known from outside CTranslate2: the parameters
and their bytes as stored in ``model.bin`` (read from its header, without loading it), and no
accelerator memory peaks (CTranslate2's allocator is not visible from Python; the ``resources``
probe's process memory covers the host).
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from auditkit.engine._whisper_common import (
    LANGUAGE,
    MAX_NEW_TOKENS,
    TIMING_CLIP_SECONDS,
    TIMING_NEW_TOKENS,
    check_clips,
    timing_clips,
)
from auditkit.engine.base import DeviceMemory, Footprint, ProgressCallback, TimedBatch
from auditkit.engine.speech import AudioClip
from auditkit.engine.timing import Clock, PerfCounterClock

WEIGHT_FILE = "model.bin"

# CTranslate2's DataType enum, in the order its model.bin format numbers the types.
_CT2_TYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


@dataclass(frozen=True)
class StoredWeights:
    """What a CTranslate2 ``model.bin`` holds, read from its header."""

    spec_name: str
    """The model specification it was saved from, e.g. ``WhisperSpec``."""
    parameters: int
    """Elements of every tensor (rank ≥ 1) except quantization scales (names ending ``_scale``)."""
    parameter_bytes: dict[str, int]
    """Bytes of those tensors by stored element type."""
    other_bytes: int
    """Bytes of the rest: quantization scales and the scalar settings CTranslate2 stores as
    variables (activation kind, alignment heads…)."""


def read_stored_weights(path: Path) -> StoredWeights:
    """Count the variables of a CTranslate2 ``model.bin`` (format versions 4 to 6) from their
    headers, seeking past their data.

    Layout: version (u32), spec name (string), spec revision (u32), variable count (u32), then per
    variable its name (string), rank (u8), dims (u32 each), type (u8), byte count (u32) and data;
    a string is a u16 length (with its final NUL) then the bytes."""
    parameters, other = 0, 0
    by_type: dict[str, int] = {}
    with path.open("rb") as stream:
        version = _read(stream, "<I")
        if not 4 <= version <= 6:
            raise ValueError(
                f"{path}: CTranslate2 model format {version} is not one auditkit reads"
            )
        spec_name = _read_string(stream)
        _read(stream, "<I")  # the specification's revision
        for _ in range(_read(stream, "<I")):
            name = _read_string(stream)
            dims = [_read(stream, "<I") for _ in range(_read(stream, "<B"))]
            type_name = _CT2_TYPES[_read(stream, "<B")]
            size = _read(stream, "<I")
            stream.seek(size, os.SEEK_CUR)
            if dims and not name.endswith("_scale"):
                parameters += math.prod(dims)
                by_type[type_name] = by_type.get(type_name, 0) + size
            else:
                other += size
    return StoredWeights(spec_name, parameters, dict(sorted(by_type.items())), other)


def _read(stream: BinaryIO, fmt: str) -> int:
    data = stream.read(struct.calcsize(fmt))
    if len(data) != struct.calcsize(fmt):
        raise ValueError("CTranslate2 model.bin ends inside a header")
    value: int = struct.unpack(fmt, data)[0]
    return value


def _read_string(stream: BinaryIO) -> str:
    return stream.read(_read(stream, "<H")).rstrip(b"\0").decode("utf-8", errors="replace")


class CT2Whisper:
    """A ``SpeechRecognizer`` (and ``ResourceModel``, ``BatchTimingModel``) over a CTranslate2
    Whisper folder, through faster-whisper."""

    def __init__(
        self,
        folder: Path,
        *,
        name: str,
        device: str = "cpu",
        compute_type: str = "float32",
        cpu_threads: int = 0,
        language: str = LANGUAGE,
    ) -> None:
        """``compute_type`` is CTranslate2's (``float32``, ``int8``, ``float16``, ``default``…);
        ``cpu_threads`` 0 leaves the choice to CTranslate2 (``OMP_NUM_THREADS``, else 4)."""
        from faster_whisper import WhisperModel

        device_type, _, index = device.partition(":")
        self.whisper = WhisperModel(
            str(folder),
            device=device_type,
            device_index=int(index or 0),
            compute_type=compute_type,
            cpu_threads=cpu_threads,
        )
        self.folder = folder
        self._name = name
        self.device = device
        self.language = language
        self.stored: StoredWeights | None
        """``None`` when ``model.bin``'s header could not be read: parameters are then unknown."""
        try:
            self.stored = read_stored_weights(folder / WEIGHT_FILE)
        except (ValueError, IndexError):
            self.stored = None
        self.bytes_on_disk = (folder / WEIGHT_FILE).stat().st_size

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_type(self) -> str:
        """The compute type CTranslate2 chose (e.g. ``int8_float32`` for ``int8`` on a CPU)."""
        return str(self.whisper.model.compute_type)

    def transcribe(
        self, clips: Sequence[AudioClip], progress: ProgressCallback | None = None
    ) -> list[str]:
        check_clips(clips, "faster-whisper")
        texts = []
        for clip in clips:
            texts.append(self._decode(clip))
            if progress:
                progress(1)
        return texts

    def _decode(self, clip: AudioClip, **options: Any) -> str:
        segments, _ = self.whisper.transcribe(
            clip.samples,
            language=self.language,
            task="transcribe",
            beam_size=1,
            best_of=1,
            temperature=0.0,
            compression_ratio_threshold=None,
            log_prob_threshold=None,
            no_speech_threshold=None,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
            **{"max_new_tokens": MAX_NEW_TOKENS, **options},
        )
        return "".join(segment.text for segment in segments).strip()

    # -- speed (BatchTimingModel) and resources (ResourceModel) -------------------------------

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        """``batch_size`` synthetic 5 s clips of seeded noise (``HFWhisper``'s), each decoded to
        exactly ``TIMING_NEW_TOKENS`` tokens (end of text suppressed), one call after another,
        timed with ``clock``; units are seconds of audio."""
        clips = timing_clips(batch_size, seed=seed)
        end_of_text = self.whisper.hf_tokenizer.token_to_id("<|endoftext|>")
        clock.sync()
        start = clock.now()
        for clip in clips:
            self._decode(clip, max_new_tokens=TIMING_NEW_TOKENS, suppress_tokens=[-1, end_of_text])
        clock.sync()
        seconds = clock.now() - start
        return TimedBatch(
            batch_size=batch_size, units=batch_size * TIMING_CLIP_SECONDS, seconds=seconds
        )

    def clock(self) -> Clock:
        """The host's clock: CTranslate2 returns from a call only when its results exist, on a
        GPU too, so there is nothing to wait for."""
        return PerfCounterClock()

    def footprint(self) -> Footprint:
        """Parameters and their bytes as stored in ``model.bin``; CTranslate2 converts them to
        its compute type when it loads them, which this does not measure. An unreadable header
        gives 0 parameters."""
        stored = self.stored or StoredWeights("unknown", 0, {}, 0)
        return Footprint(
            parameters=stored.parameters,
            parameter_bytes=stored.parameter_bytes,
            buffer_bytes=stored.other_bytes,
            device=self.device,
            device_name=_device_name(self.device),
            dtype=max(
                stored.parameter_bytes, key=lambda t: stored.parameter_bytes[t], default="none"
            ),
            bytes_on_disk=self.bytes_on_disk,
        )

    def reset_peak_memory(self) -> None:
        return None

    def peak_memory(self) -> DeviceMemory:
        return DeviceMemory()

    def energy_joules(self) -> float | None:
        return None


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return str(torch.cuda.get_device_name(device))
    from auditkit.environment import cpu_name

    return cpu_name()
