"""Read an audio file into an ``AudioClip``: mono float32 at 16 kHz, whatever the file holds.

WAV files of 16-bit PCM are read with the standard library's ``wave`` module; other WAV
encodings and other formats (FLAC, OGG…) go through ``soundfile`` when it is installed (the
``speech`` extra). Several channels are averaged to one; any other rate is resampled to 16 kHz
with a polyphase filter (``scipy.signal.resample_poly``, Kaiser window), exactly for rates with a
small ratio to 16 kHz (22.05, 44.1, 48 kHz…).
"""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path

import numpy as np

from auditkit.engine.speech import SAMPLE_RATE, AudioClip

PCM16_FULL_SCALE = 32768.0


class AudioReadError(ValueError):
    """An audio file that cannot be decoded; the message says why in a few words."""


def read_audio(path: Path) -> AudioClip:
    """``path`` as a 16 kHz mono clip; ``AudioReadError`` when it cannot be decoded."""
    if path.suffix.lower() == ".wav":
        decoded = _read_pcm16_wav(path)
        if decoded is not None:
            return to_clip(*decoded)
    return to_clip(*_read_with_soundfile(path))


def to_clip(samples: np.ndarray, rate: int) -> AudioClip:
    """A (frames,) or (frames, channels) float array at ``rate`` Hz as a 16 kHz mono clip."""
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        step = gcd(SAMPLE_RATE, rate)
        samples = resample_poly(samples, SAMPLE_RATE // step, rate // step)
    return AudioClip(np.asarray(samples, dtype=np.float32))


def _read_pcm16_wav(path: Path) -> tuple[np.ndarray, int] | None:
    """The samples (scaled to [-1, 1)) and rate of a 16-bit PCM WAV file; ``None`` for a WAV
    file of another encoding, which ``wave`` cannot decode or which is not 16-bit."""
    try:
        with wave.open(str(path), "rb") as reader:
            if reader.getsampwidth() != 2:
                return None
            channels, rate = reader.getnchannels(), reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except wave.Error:
        return None  # e.g. IEEE float or A-law: soundfile reads those
    except (OSError, EOFError) as exc:
        raise AudioReadError(f"cannot read WAV file: {exc}") from None
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64) / PCM16_FULL_SCALE
    if samples.size == 0:
        raise AudioReadError("the WAV file holds no audio")
    return samples.reshape(-1, channels), rate


def _read_with_soundfile(path: Path) -> tuple[np.ndarray, int]:
    try:
        import soundfile
    except ImportError:
        raise AudioReadError(
            f"auditkit reads 16-bit PCM WAV files itself; for {path.suffix or 'this'} audio "
            "install soundfile (pip install 'auditkit[speech]') or convert the file to 16-bit "
            "PCM WAV"
        ) from None
    try:
        samples, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    except (RuntimeError, OSError) as exc:  # soundfile's errors are RuntimeErrors
        raise AudioReadError(f"cannot decode audio: {exc}") from None
    if samples.size == 0:
        raise AudioReadError("the file holds no audio")
    return samples, int(rate)
