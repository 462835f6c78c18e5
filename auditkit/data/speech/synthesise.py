"""Regenerate the speech-recognition demo set: 24 sentences spoken by espeak-ng.

Run ``python -m auditkit.data.speech.synthesise`` (needs the ``espeak-ng`` program). Each sentence
is spoken by one of three voices in turn, written by espeak-ng as 22.05 kHz mono 16-bit WAV,
resampled here to 16 kHz (the rate Whisper takes), its trailing silence cut to 0.15 s, and saved
as ``sNN.wav`` beside this file;
``transcripts.csv`` lists every file with its sentence and voice (the ``speaker`` column).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tempfile
import wave
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

FOLDER = Path(__file__).parent
TARGET_RATE = 16_000
WORDS_PER_MINUTE = 160
TRAILING_SILENCE_SECONDS = 0.15
"""espeak-ng ends every clip with about 0.3 s of silence; keeping 0.15 s keeps the set small."""
SILENCE_LEVEL = 300
"""Samples below this magnitude (about 1% of full scale) count as silence when trimming."""
VOICES = ("en-us", "en-gb", "en-us+f3")
"""American male (the default variant), British male, American female (variant ``f3``)."""

SENTENCES = (
    "My sister moved to Lisbon three years ago.",
    "The bakery opens at seven every morning.",
    "Water boils at one hundred degrees Celsius.",
    "We drove 45 miles to the coast.",
    "Please turn off the kitchen lights.",
    "The museum in Madrid has 8000 paintings.",
    "A year has twelve months.",
    "The library closes early on Sundays.",
    "Our flight to Nairobi was two hours late.",
    "Cats sleep for more than twelve hours a day.",
    "The Danube flows through four capital cities.",
    "I bought 3 apples and 2 pears.",
    "The meeting moved to Thursday afternoon.",
    "Mount Everest is the highest mountain on Earth.",
    "She plays the piano after dinner.",
    "The bus to Oslo was full, so we took a taxi.",
    "Sunlight reaches Earth in about eight minutes.",
    "Water the tomato plants twice a week.",
    "The stone bridge in Prague is very old.",
    "There are 52 cards in a standard deck.",
    "He fixed the bicycle with a new chain.",
    "The concert in Vienna starts at half past eight.",
    "Honey never spoils in a sealed jar.",
    "Our team won the match by 3 goals to 1.",
)


def speak(text: str, voice: str, wav: Path) -> None:
    """``espeak-ng -v VOICE -s 160 -w WAV TEXT``: the exact command the data card names."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SystemExit("espeak-ng is not installed (Debian/Ubuntu: apt install espeak-ng)")
    subprocess.run(
        [program, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(wav), text], check=True
    )


def resampled_pcm16(wav: Path) -> bytes:
    """The mono 16-bit samples of ``wav`` resampled to 16 kHz (polyphase filter), with the
    trailing silence cut to ``TRAILING_SILENCE_SECONDS``, as bytes."""
    with wave.open(str(wav), "rb") as reader:
        if reader.getnchannels() != 1 or reader.getsampwidth() != 2:
            raise SystemExit(f"{wav}: expected mono 16-bit PCM from espeak-ng")
        rate = reader.getframerate()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    step = gcd(TARGET_RATE, rate)
    audio = resample_poly(samples.astype(np.float64), TARGET_RATE // step, rate // step)
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    if loud.size:
        audio = audio[: loud[-1] + 1 + int(TRAILING_SILENCE_SECONDS * TARGET_RATE)]
    return np.clip(np.round(audio), -32768, 32767).astype("<i2").tobytes()


def write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(TARGET_RATE)
        writer.writeframes(pcm)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "raw.wav"
        for number, text in enumerate(SENTENCES, start=1):
            voice = VOICES[(number - 1) % len(VOICES)]
            name = f"s{number:02d}.wav"
            speak(text, voice, raw)
            write_wav(FOLDER / name, resampled_pcm16(raw))
            rows.append({"file": name, "text": text, "speaker": voice})
    with (FOLDER / "transcripts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "text", "speaker"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} clips and transcripts.csv to {FOLDER}")


if __name__ == "__main__":
    main()
