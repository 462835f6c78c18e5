"""The speech-recognition probe on a scripted recogniser, with error rates worked out by hand.

Four WAV clips of distinct lengths; the scripted recogniser answers by clip length. References
and scripted transcripts, normalised (lower case, numbers in words, punctuation removed):

    a.wav  the cat sat on the mat   | the cat sat on a mat    1 substitution        E=1 N=6
    b.wav  i have two dogs          | i have two dogs         (ref "I have 2 dogs.") E=0 N=4
    c.wav  hello world              | (nothing)               2 deletions           E=2 N=2
    d.wav  good morning             | good good morning       1 insertion           E=1 N=2

WER = 4 / 14. Characters (spaces included): a "the"→"a" costs 3 of 22; b 0 of 15; c 11 of 11;
d 5 ("good ") of 12: CER = 19 / 60. Speakers: a, b are "x" (WER 1/10), c, d are "y" (3/4).
"""

from __future__ import annotations

import csv
import json
import math
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from auditkit.engine.base import WrongModelTask
from auditkit.engine.mock import MockModel
from auditkit.engine.speech import AudioClip
from auditkit.engine.timing import ManualClock
from auditkit.errors import UserError
from auditkit.metric_format import format_value
from auditkit.probes._audio_files import read_audio
from auditkit.probes._transcript_text import Normalisation, cardinal, ordinal
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.speech_recognition import SpeechRecognition, SpeechRecognitionSpec
from auditkit.results import Metric
from auditkit.stats import bootstrap_interval

RATE = 16_000
SECONDS_PER_CALL = 0.25
"""The scripted recogniser's clock moves this much per clip it transcribes."""
# file, seconds, reference, scripted transcript, speaker
CASES = [
    ("a.wav", 1.0, "The cat sat on the mat.", "the cat sat on a mat", "x"),
    ("b.wav", 0.5, "I have 2 dogs.", "I have two dogs", "x"),
    ("c.wav", 0.3, "Hello, world!", "", "y"),
    ("d.wav", 0.2, "Good morning", "Good good morning.", "y"),
]
WORD_ERRORS, WORDS = [1, 0, 2, 1], [6, 4, 2, 2]
CHAR_ERRORS, CHARS = [3, 0, 11, 5], [22, 15, 11, 12]


class ScriptedRecognizer:
    """Transcribes a clip to the text scripted for its number of samples; its clock advances
    ``SECONDS_PER_CALL`` per clip."""

    name = "scripted-recognizer"

    def __init__(self, by_length: dict[int, str]) -> None:
        self.by_length = by_length
        self._clock = ManualClock()
        self.calls: list[int] = []

    def clock(self) -> ManualClock:
        return self._clock

    def transcribe(
        self, clips: Sequence[AudioClip], progress: Callable[[int], None] | None = None
    ) -> list[str]:
        self.calls.append(len(clips))
        texts = []
        for clip in clips:
            self._clock.advance(SECONDS_PER_CALL)
            texts.append(self.by_length[len(clip.samples)])
            if progress:
                progress(1)
        return texts


def write_wav(
    path: Path, seconds: float, *, rate: int = RATE, channels: int = 1, width: int = 2
) -> None:
    """A quiet 440 Hz tone, 16-bit PCM (or ``width`` bytes a sample)."""
    frames = int(seconds * rate)
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(frames) / rate)
    samples = np.repeat((tone * 32767).astype("<i2")[:, None], channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        data = samples.tobytes() if width == 2 else np.zeros(frames * channels, "<i4").tobytes()
        writer.writeframes(data)


def write_set(
    folder: Path, cases: list[tuple[str, float, str, str, str]] = CASES, *, speakers: bool = True
) -> Path:
    for name, seconds, *_ in cases:
        write_wav(folder / name, seconds)
    with (folder / "transcripts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "text", "speaker"] if speakers else ["file", "text"])
        for name, _, text, _, speaker in cases:
            writer.writerow([name, text, speaker] if speakers else [name, text])
    return folder


def recognizer(cases: list[tuple[str, float, str, str, str]] = CASES) -> ScriptedRecognizer:
    return ScriptedRecognizer({int(seconds * RATE): said for _, seconds, _, said, _ in cases})


def make_probe(folder: Path, **fields: Any) -> SpeechRecognition:
    spec = SpeechRecognitionSpec.model_validate(
        {"id": "asr", "kind": "speech_recognition", **fields}, context={"base_dir": folder}
    )
    return SpeechRecognition(spec)


def probe_on_set(folder: Path, **fields: Any) -> SpeechRecognition:
    """The probe on ``CASES`` written to ``folder/set``."""
    write_set(folder / "set")
    return make_probe(folder, audio_dir="set", **fields)


def run(probe: SpeechRecognition, engine: object, seed: int = 3) -> ProbeOutput:
    return probe.run(ProbeContext(engine=engine, model_id="m", seed=seed))


def by_name(metrics: list[Metric]) -> dict[tuple[str, str | None], Metric]:
    return {(m.name, m.group): m for m in metrics}


def corpus_ratio(errors: list[int], lengths: list[int]) -> Callable[[np.ndarray], float]:
    e, n = np.array(errors, dtype=float), np.array(lengths, dtype=float)
    return lambda idx: float(e[idx].sum() / n[idx].sum())


def test_error_rates_speed_and_groups_by_hand(tmp_path: Path) -> None:
    probe = probe_on_set(tmp_path)
    probe.check_data()
    output = run(probe, recognizer())
    assert all(metric.unit is not None for metric in output.metrics)
    metrics = by_name(output.metrics)
    assert list(metrics) == [
        ("wer", None),
        ("cer", None),
        ("wer", "x"),
        ("wer", "y"),
        ("wer_group_gap", None),
        ("real_time_factor", None),
        ("latency_per_audio_second", None),
    ]
    wer, cer = metrics[("wer", None)], metrics[("cer", None)]
    assert wer.value == pytest.approx(4 / 14)
    assert cer.value == pytest.approx(19 / 60)
    assert (wer.ci_low, wer.ci_high) == pytest.approx(
        bootstrap_interval(corpus_ratio(WORD_ERRORS, WORDS), 4, seed=3)
    )
    assert (cer.ci_low, cer.ci_high) == pytest.approx(
        bootstrap_interval(corpus_ratio(CHAR_ERRORS, CHARS), 4, seed=3)
    )
    for metric in (wer, cer):
        assert (metric.n, metric.direction, metric.unit) == (4, "lower", "error rate")
        assert metric.interval == "bootstrap"
        assert metric.ci_low is not None and metric.ci_high is not None
        assert metric.ci_low <= metric.value <= metric.ci_high
    assert (wer.per_item, cer.per_item) == ("wer_weighted", "cer_weighted")
    assert metrics[("wer", "x")].value == pytest.approx(1 / 10)
    assert metrics[("wer", "y")].value == pytest.approx(3 / 4)
    assert metrics[("wer", "x")].n == 2
    assert metrics[("wer", "x")].per_item is None
    gap = metrics[("wer_group_gap", None)]
    assert gap.value == pytest.approx(3 / 4 - 1 / 10)
    assert "y minus x" in gap.description
    # Four clips, 0.25 s of the recogniser's clock each, over 2 s of audio.
    assert metrics[("real_time_factor", None)].value == pytest.approx(0.5)
    assert metrics[("latency_per_audio_second", None)].value == pytest.approx(500.0)
    assert metrics[("real_time_factor", None)].unit == "real-time factor"
    assert metrics[("latency_per_audio_second", None)].unit == "ms/audio s"
    assert [format_value(metrics[(name, None)], None) for name in ("wer", "real_time_factor")] == [
        "28.6%",
        "0.500×",
    ]


def test_per_item_scores_average_to_the_corpus_rates(tmp_path: Path) -> None:
    output = run(probe_on_set(tmp_path), recognizer())
    metrics = by_name(output.metrics)
    scores = [sample.scores for sample in output.samples]
    assert [s["wer"] for s in scores] == pytest.approx([1 / 6, 0, 1, 1 / 2])
    assert [s["cer"] for s in scores] == pytest.approx([3 / 22, 0, 1, 5 / 12])
    assert [s["word_errors"] for s in scores] == WORD_ERRORS
    assert [s["reference_words"] for s in scores] == WORDS
    assert np.mean([s["wer_weighted"] for s in scores]) == pytest.approx(
        metrics[("wer", None)].value
    )
    assert np.mean([s["cer_weighted"] for s in scores]) == pytest.approx(
        metrics[("cer", None)].value
    )


def test_samples_record_each_utterance(tmp_path: Path) -> None:
    output = run(probe_on_set(tmp_path), recognizer())
    first, second, third = output.samples[:3]
    assert (first.item_id, first.input, first.target, first.output) == (
        "a.wav",
        "a.wav",
        "The cat sat on the mat.",
        "the cat sat on a mat",
    )
    assert first.details["reference_normalised"] == "the cat sat on the mat"
    assert first.details["hypothesis_normalised"] == "the cat sat on a mat"
    assert first.details["seconds"] == pytest.approx(1.0)
    assert first.details["group"] == "x"
    assert (first.details["substitutions"], first.details["deletions"]) == (1, 0)
    assert second.details["reference_normalised"] == "i have two dogs"
    assert third.details["deletions"] == 2


def test_progress_and_one_call(tmp_path: Path) -> None:
    steps: list[int] = []
    totals: list[int] = []
    engine = recognizer()
    probe_on_set(tmp_path).run(
        ProbeContext(
            engine=engine, model_id="m", seed=1, set_total=totals.append, advance=steps.append
        )
    )
    assert (totals, sum(steps), engine.calls) == ([4], 4, [4])


def test_no_group_column_no_group_metrics(tmp_path: Path) -> None:
    write_set(tmp_path / "set", speakers=False)
    output = run(make_probe(tmp_path, audio_dir="set"), recognizer())
    assert [(m.name, m.group) for m in output.metrics] == [
        ("wer", None),
        ("cer", None),
        ("real_time_factor", None),
        ("latency_per_audio_second", None),
    ]


def test_limit_transcripts_path_and_jsonl(tmp_path: Path) -> None:
    folder = write_set(tmp_path / "set")
    rows = [{"file": n, "text": t, "group": s} for n, _, t, _, s in CASES]
    (folder / "other.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    # The audio folder defaults to the table's folder.
    probe = make_probe(tmp_path, transcripts="set/other.jsonl", limit=2)
    assert probe.audio_dir == folder
    output = run(probe, recognizer())
    assert [s.item_id for s in output.samples] == ["a.wav", "b.wav"]
    assert by_name(output.metrics)[("wer", None)].value == pytest.approx(1 / 10)
    assert probe.data_files() == [folder / "other.jsonl", folder / "a.wav", folder / "b.wav"]


def test_normalisation_options_change_the_counts(tmp_path: Path) -> None:
    plain = {"lowercase": False, "strip_punctuation": False, "numbers_to_words": False}
    output = run(probe_on_set(tmp_path, normalise=plain), recognizer())
    wer = by_name(output.metrics)[("wer", None)]
    # Without normalisation: a 3 (The/the, the/a, mat./mat), b 2 (2/two, dogs./dogs),
    # c 2, d 2 (Good/good inserted, morning/morning.) of 6 + 4 + 2 + 2 words.
    assert wer.value == pytest.approx(9 / 14)
    assert "whitespace collapsed" in wer.description
    assert "lower-cased" not in wer.description
    default = run(make_probe(tmp_path, audio_dir="set"), recognizer())
    description = by_name(default.metrics)[("wer", None)].description
    assert "lower-cased; numbers in words; apostrophes deleted" in description


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("We drove 45 miles.", "we drove forty five miles"),
        ("Don't pay 1,200 dollars!", "dont pay one thousand two hundred dollars"),
        (
            "It is 3.5% of the 21st budget",
            "it is three point five percent of the twenty first budget",
        ),
        ("The mp3 and 4x4 stay", "the mp3 and 4x4 stay"),
        ("A  year\thas\n12   months", "a year has twelve months"),
        ("Forty-two — or 42?", "forty two or forty two"),
    ],
)
def test_normalisation(text: str, normalised: str) -> None:
    assert Normalisation().apply(text) == normalised


def test_numbers_in_words() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(115) == "one hundred fifteen"
    assert cardinal(8000) == "eight thousand"
    assert cardinal(1_002_030) == "one million two thousand thirty"
    assert cardinal(10**12) == "one zero zero zero zero zero zero zero zero zero zero zero zero"
    assert [ordinal(cardinal(n)) for n in (1, 2, 3, 5, 12, 20, 40, 100)] == [
        "first",
        "second",
        "third",
        "fifth",
        "twelfth",
        "twentieth",
        "fortieth",
        "one hundredth",
    ]


def test_any_wav_rate_and_channels_become_16_khz_mono(tmp_path: Path) -> None:
    write_wav(tmp_path / "stereo.wav", 0.5, rate=22_050, channels=2)
    clip = read_audio(tmp_path / "stereo.wav")
    assert (clip.sample_rate, len(clip.samples), clip.samples.dtype) == (RATE, 8000, np.float32)
    assert 0.05 < float(np.abs(clip.samples).max()) < 0.15


def test_other_formats_need_soundfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_wav(tmp_path / "wide.wav", 0.1, width=4)  # 32-bit PCM: not read by the wave path
    monkeypatch.setitem(__import__("sys").modules, "soundfile", None)
    with pytest.raises(ValueError, match=r"16-bit PCM WAV .* install soundfile"):
        read_audio(tmp_path / "wide.wav")


def test_soundfile_reads_other_formats(tmp_path: Path) -> None:
    soundfile = pytest.importorskip("soundfile")
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(4800) / 48_000)
    soundfile.write(str(tmp_path / "tone.flac"), tone, 48_000)
    clip = read_audio(tmp_path / "tone.flac")
    assert (clip.sample_rate, len(clip.samples)) == (RATE, 1600)


def table_problems(folder: Path, table: str, **fields: Any) -> list[str]:
    (folder / "transcripts.csv").write_text(table, encoding="utf-8")
    with pytest.raises(UserError) as raised:
        make_probe(folder, audio_dir=".", **fields).check_data()
    return raised.value.problems


def test_bad_tables_are_reported_with_their_lines(tmp_path: Path) -> None:
    for name in ("a.wav", "b.wav"):
        write_wav(tmp_path / name, 0.1)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave file")
    csv_path = tmp_path / "transcripts.csv"
    problems = table_problems(
        tmp_path,
        "file,text,speaker\n"
        "a.wav,Hello there,x\n"
        "missing.wav,Where am I,x\n"
        "b.wav,   ,x\n"
        "a.wav,Again,x\n"
        ",No file,x\n"
        "b.wav,Fine,\n",
    )
    assert problems == [
        f"{csv_path}:4: b.wav: the transcript is empty",
        f"{csv_path}:5: a.wav is listed twice (first on line 2)",
        f"{csv_path}:6: no audio file named (column 'file' is empty)",
        f"{csv_path}:7: b.wav: the group (or speaker) is empty",
    ]
    problems = table_problems(
        tmp_path, "file,text\na.wav,Hello\nmissing.wav,Where\nbroken.wav,Broken\n../x.wav,Out\n"
    )
    assert problems[0] == f"{csv_path}:3: missing.wav: audio file not found in {tmp_path}"
    assert problems[1] == f"{csv_path}:5: ../x.wav: lies outside the audio folder {tmp_path}"
    problems = table_problems(tmp_path, "file,text\na.wav,Hello\nbroken.wav,Broken\n")
    assert len(problems) == 1
    assert problems[0].startswith(f"{csv_path}:3: broken.wav: ")
    assert "soundfile" in problems[0] or "cannot decode" in problems[0]
    assert table_problems(tmp_path, "name,words\na.wav,Hello\n") == [
        f"{csv_path}:1: the header names no 'file' or 'text' column (it has: name, words)"
    ]
    assert table_problems(tmp_path, "file,text\na.wav,!!!\n") == [
        f"{csv_path}:2: a.wav: the transcript is empty once normalised"
    ]


def test_bad_jsonl_lines(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", 0.1)
    table = tmp_path / "t.jsonl"
    table.write_text(
        '{"file": "a.wav", "text": "Hi", "speaker": "x"}\n'
        "not json\n"
        '["a list"]\n'
        '{"file": "b.wav", "text": 3}\n',
        encoding="utf-8",
    )
    with pytest.raises(UserError) as raised:
        make_probe(tmp_path, transcripts="t.jsonl").check_data()
    assert raised.value.problems == [
        f"{table}:2:1: not valid JSON: Expecting value",
        f"{table}:3: expected an object with 'file' and 'text'",
        f"{table}:4: text: must be a string",
    ]


def test_a_folder_without_a_table(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no transcripts\.csv or transcripts\.jsonl"):
        make_probe(tmp_path, audio_dir=".").check_data()


def test_spec_validation(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="file not found"):
        make_probe(tmp_path, audio_dir="nowhere")
    with pytest.raises(ValidationError, match="Extra inputs"):
        make_probe(tmp_path, normalise={"lowercase": True, "stemming": True})


def test_a_language_model_is_refused(tmp_path: Path) -> None:
    probe = probe_on_set(tmp_path)
    assert probe.model_tasks() == ("speech-recognition",)
    with pytest.raises(WrongModelTask, match="needs a speech recogniser"):
        run(probe, MockModel())


def test_the_shipped_set_is_complete() -> None:
    """As its data card says, and as its generation script would write it again."""
    from auditkit.data.speech.synthesise import SENTENCES, VOICES

    probe = SpeechRecognition(
        SpeechRecognitionSpec.model_validate({"id": "asr", "kind": "speech_recognition"})
    )
    utterances = probe.utterances()
    assert [(u.row.text, u.row.group) for u in utterances] == [
        (text, VOICES[i % 3]) for i, text in enumerate(SENTENCES)
    ]
    assert [u.row.file for u in utterances] == [f"s{i:02d}.wav" for i in range(1, 25)]
    clips = probe.clips(utterances)
    assert all(clip.sample_rate == RATE for clip in clips)
    assert 50 < sum(clip.seconds for clip in clips) < 70
    assert sum(u.path.stat().st_size for u in utterances) < 2_100_000
    assert all(5 <= len(u.row.text.split()) <= 14 for u in utterances)
    assert not math.isnan(sum(float(np.abs(c.samples).max()) for c in clips))
