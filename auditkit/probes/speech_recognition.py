"""``speech_recognition``: how many words a speech recogniser gets wrong, and how fast it is.

Runs on speech-recognition models (``SpeechRecognizer``) over a folder of audio files and a
transcript table (``_transcript_table.py``); auditkit ships a small synthetic set
(``data/speech/``) used when the suite names none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from auditkit.engine.speech import AudioClip, SpeechRecognizer
from auditkit.engine.timing import Clock, PerfCounterClock
from auditkit.errors import UserError
from auditkit.probes._audio_files import AudioReadError, read_audio
from auditkit.probes._speech_metrics import error_counts, error_rate_metrics, speed_metrics
from auditkit.probes._transcript_table import TranscriptRow, read_transcripts
from auditkit.probes._transcript_text import Normalisation
from auditkit.probes.base import (
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.probes.dataset import builtin_data

BUILTIN_AUDIO = "data/speech"
TABLE_NAMES = ("transcripts.csv", "transcripts.jsonl")
"""The transcript table looked for in the audio folder when the suite names none."""


class SpeechRecognitionSpec(ProbeSpec):
    kind: Literal["speech_recognition"]
    audio_dir: SuitePath | None = Field(
        None,
        description="Folder of audio files (16-bit PCM WAV; other formats with soundfile). "
        "Default: the transcript table's folder, else auditkit's synthetic English set "
        "(24 sentences, 3 voices).",
    )
    transcripts: SuitePath | None = Field(
        None,
        description="CSV or JSONL table with columns file, text and optionally group or "
        "speaker. Default: transcripts.csv (or .jsonl) in the audio folder.",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N utterances.")
    normalise: Normalisation = Field(
        default_factory=Normalisation,
        description="How references and transcripts are normalised before comparing them "
        "(default: all steps on).",
    )


@dataclass(frozen=True)
class Utterance:
    row: TranscriptRow
    path: Path
    reference: str
    """The reference transcript normalised."""


@register_probe
class SpeechRecognition(Probe[SpeechRecognitionSpec]):
    """Word and character error rates of transcripts, per speaker group, and processing speed.

    Every clip is read as 16 kHz mono audio and transcribed by the model in one call. Reference
    r_i and transcript h_i of utterance i are normalised (``normalise``; the exact steps are in
    each description) and aligned by minimum edit distance (jiwer): E_i = substitutions +
    deletions + insertions of words, N_i = words of r_i; C_i and M_i the same for characters
    (spaces between words included).

    - ``wer`` = Σ E_i / Σ N_i over the n utterances (corpus word error rate; can exceed 1).
      Lower is better. 95% interval: percentile bootstrap over utterances of the same ratio
      (1000 resamples, seeded). Per-item score ``wer_weighted`` = n · E_i / Σ N_i, whose mean is
      ``wer``, so that a paired comparison with a baseline is exactly the difference of corpus
      WERs; the per-utterance E_i / N_i is the score ``wer``.
    - ``cer`` = Σ C_i / Σ M_i, likewise (per-item ``cer_weighted``).
    - ``wer`` per group (metric ``group`` = the value of the table's ``group``, else ``speaker``
      column, when it has one) = the same ratio over the group's utterances, with a bootstrap
      over them. Lower is better.
    - ``wer_group_gap`` = largest minus smallest group ``wer`` (with two groups or more). Lower is
      better. 95% interval: bootstrap over all utterances (groups absent from a resample are left
      out of it).
    - ``real_time_factor`` = T / A: T the seconds of the transcription call (the engine's own
      clock when it has one), A the seconds of audio. Below 1: faster than real time. Lower is
      better; one timed call, no interval, no warm-up (the first call's costs are in it).
    - ``latency_per_audio_second`` = 1000 · T / A, milliseconds per second of audio. Lower is
      better; no interval.
    """

    Spec = SpeechRecognitionSpec
    tasks = ("speech-recognition",)
    charts = ("per_group",)  # word error rate per speaker group is the point of the groups

    def known_metrics(self) -> dict[str, bool]:
        return {
            "wer": True,
            "cer": True,
            "wer_group_gap": False,
            "real_time_factor": False,
            "latency_per_audio_second": False,
        }

    # -- data ---------------------------------------------------------------------------------

    @property
    def audio_dir(self) -> Path:
        if self.spec.audio_dir is not None:
            return self.spec.audio_dir
        if self.spec.transcripts is not None:
            return self.spec.transcripts.parent
        return builtin_data(BUILTIN_AUDIO)

    @property
    def table_path(self) -> Path:
        if self.spec.transcripts is not None:
            return self.spec.transcripts
        for name in TABLE_NAMES:
            if (self.audio_dir / name).is_file():
                return self.audio_dir / name
        raise UserError(
            f"{self.audio_dir}: no {' or '.join(TABLE_NAMES)}; name the table with `transcripts:`"
        )

    def utterances(self) -> list[Utterance]:
        """The utterances this run uses (the first ``limit`` rows), each with its file checked
        to lie in the audio folder and exist, and its reference normalised and not empty."""
        table = self.table_path
        rows = read_transcripts(table)
        rows = rows[: self.spec.limit] if self.spec.limit else rows
        folder = self.audio_dir.resolve()
        problems, utterances = [], []
        for row in rows:
            path = (folder / row.file).resolve()
            reference = self.spec.normalise.apply(row.text)
            where = f"{table}:{row.line}: {row.file}"
            if not path.is_relative_to(folder):
                problems.append(f"{where}: lies outside the audio folder {folder}")
            elif not path.is_file():
                problems.append(f"{where}: audio file not found in {folder}")
            elif not reference:
                problems.append(f"{where}: the transcript is empty once normalised")
            else:
                utterances.append(Utterance(row, path, reference))
        if problems:
            raise UserError(problems)
        return utterances

    def data_files(self) -> list[Path]:
        return [self.table_path, *(u.path for u in self.utterances())]

    def check_data(self) -> None:
        self.clips(self.utterances())

    def clips(self, utterances: list[Utterance]) -> list[AudioClip]:
        """Every utterance's audio, or ``UserError`` naming each file that cannot be read."""
        clips, problems = [], []
        for utterance in utterances:
            try:
                clips.append(read_audio(utterance.path))
            except AudioReadError as exc:
                problems.append(
                    f"{self.table_path}:{utterance.row.line}: {utterance.row.file}: {exc}"
                )
        if problems:
            raise UserError(problems)
        return clips

    # -- run ----------------------------------------------------------------------------------

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        recognizer = ctx.engine_as(SpeechRecognizer, self.kind)
        utterances = self.utterances()
        clips = self.clips(utterances)
        ctx.set_total(len(clips))
        clock = _clock_of(recognizer)
        clock.sync()
        start = clock.now()
        transcripts = recognizer.transcribe(clips, progress=ctx.advance)
        clock.sync()
        seconds = clock.now() - start
        if len(transcripts) != len(clips):
            raise RuntimeError(
                f"{recognizer.name} returned {len(transcripts)} transcripts for {len(clips)} clips"
            )
        hypotheses = [self.spec.normalise.apply(text) for text in transcripts]
        counts = [error_counts(u.reference, h) for u, h in zip(utterances, hypotheses, strict=True)]
        audio_seconds = sum(clip.seconds for clip in clips)
        words = sum(c.words for c in counts)
        chars = sum(c.chars for c in counts)
        samples = [
            Sample(
                item_id=u.row.file,
                input=u.row.file,
                output=text,
                target=u.row.text,
                scores={
                    "wer": c.word_errors / c.words,
                    "cer": c.char_errors / c.chars,
                    "wer_weighted": len(counts) * c.word_errors / words,
                    "cer_weighted": len(counts) * c.char_errors / chars,
                    "word_errors": float(c.word_errors),
                    "reference_words": float(c.words),
                },
                details={
                    "reference_normalised": u.reference,
                    "hypothesis_normalised": h,
                    "seconds": clip.seconds,
                    "group": u.row.group,
                    "substitutions": c.substitutions,
                    "deletions": c.deletions,
                    "insertions": c.insertions,
                },
            )
            for u, text, h, c, clip in zip(
                utterances, transcripts, hypotheses, counts, clips, strict=True
            )
        ]
        metrics = error_rate_metrics(
            counts, [u.row.group for u in utterances], self.spec.normalise, seed=ctx.seed
        )
        metrics += speed_metrics(seconds, audio_seconds, len(clips))
        return ProbeOutput(metrics, samples)


def _clock_of(recognizer: object) -> Clock:
    """The engine's clock (``ResourceModel.clock``) when it has one, else the host's."""
    clock = getattr(recognizer, "clock", None)
    return clock() if callable(clock) else PerfCounterClock()
