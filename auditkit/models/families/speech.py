"""Speech recognisers: Whisper through transformers, and Whisper converted for CTranslate2.

``runtime: transformers``: a Whisper checkpoint folder (or hub id) loads with
``AutoModelForSpeechSeq2Seq`` and the ``AutoProcessor`` beside it and runs behind ``HFWhisper``;
``dtype``, pruning and auditkit's PyTorch quantization schemes apply as for language models.

``runtime: ctranslate2``: a CTranslate2 Whisper folder (``model.bin``, ``config.json``,
``tokenizer.json``) runs through faster-whisper behind ``CT2Whisper``. The suite's variant picks
CTranslate2's compute type: ``quantization: int8-dynamic`` → ``int8``, ``dtype: float16`` or
``bfloat16`` → that type, ``dtype: float32`` → ``float32``; with neither, ``float32`` on a CPU
and the weights' own type (``default``) on a GPU.

A model's license comes from its model card; for a ``pkg:`` source without one, from the
metadata of the Python package that ships it (``locate_checkpoint``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from auditkit.errors import ModelLoadError
from auditkit.models.checkpoint import CT2_WEIGHT_FILE, Checkpoint, locate_checkpoint
from auditkit.models.families._info import build_info, pytorch_info
from auditkit.models.families._pretrained import pretrained_options, refuse_split_placement
from auditkit.models.loaded import LoadedModel
from auditkit.models.loader import register_builder
from auditkit.models.spec import ModelSpec
from auditkit.results import QuantizationDetail

PROCESSOR_FILES = (
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "normalizer.json",
    "added_tokens.json",
    "special_tokens_map.json",
)
"""Files besides the weights that decide a transformers Whisper's transcripts (architecture,
decoding settings, features, tokenizer): hashed with the weights."""
CT2_FILES = (
    "config.json",
    "tokenizer.json",
    "preprocessor_config.json",
    "vocabulary.txt",
    "vocabulary.json",
)
"""The same for a CTranslate2 Whisper folder (its config holds the suppressed tokens)."""


def transformers_speech_check(spec: ModelSpec) -> str | None:
    """A CTranslate2 conversion cannot load through transformers: say which runtime it needs."""
    path = spec.parsed_source.path
    converted = path is not None and path.is_dir() and (path / CT2_WEIGHT_FILE).is_file()
    if converted and path is not None and not any(path.glob("*.safetensors")):
        return "this is a CTranslate2 model folder: set 'runtime: ctranslate2'"
    return None


@register_builder("speech-recognition", "transformers", check=transformers_speech_check)
def load_whisper_transformers(spec: ModelSpec, device: str, started: float) -> LoadedModel:
    refuse_split_placement(spec, "speech")
    checkpoint = locate_checkpoint(spec, spec.parsed_source)
    model, processor = _from_pretrained(spec, checkpoint, device)
    model.to(device)
    from auditkit.engine.whisper_hf import HFWhisper
    from auditkit.models.variant import transform_weights

    build = transform_weights(model, spec, device)
    engine = HFWhisper(
        model,
        processor,
        name=spec.id,
        batch_size=spec.batch_size or 8,
        bytes_on_disk=sum(f.stat().st_size for f in checkpoint.files),
    )
    info = pytorch_info(
        spec,
        checkpoint,
        model,
        build,
        device=str(device),
        started=started,
        extra_files=_present(Path(checkpoint.location), PROCESSOR_FILES),
    )
    return LoadedModel(spec, engine, info, [model])


def _from_pretrained(spec: ModelSpec, checkpoint: Checkpoint, device: str) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForSpeechSeq2Seq, AutoProcessor

    common, options = pretrained_options(spec, checkpoint, device)
    config = AutoConfig.from_pretrained(checkpoint.location, **common)
    if config.model_type != "whisper":
        raise ModelLoadError(
            f"speech recognition on transformers runs Whisper models; {checkpoint.location} is "
            f"a {config.model_type!r} model"
        )
    try:
        processor = AutoProcessor.from_pretrained(checkpoint.location, **common)
    except OSError as exc:
        raise ModelLoadError(
            f"{checkpoint.location} has no Whisper processor (feature extractor and tokenizer): "
            f"{exc}"
        ) from exc
    model = AutoModelForSpeechSeq2Seq.from_pretrained(checkpoint.location, **options)
    return model, processor


def ctranslate2_check(spec: ModelSpec) -> str | None:
    """What ``runtime: ctranslate2`` cannot build: it quantizes with its own int8 kernels only,
    and prunes and shards nothing."""
    if spec.quantization not in (None, "int8-dynamic") or spec.pruning is not None:
        return (
            "'runtime: ctranslate2' quantizes with its own int8 kernels: use "
            "'quantization: int8-dynamic' or none, and no pruning"
        )
    if spec.device_map is not None:
        return "'device_map' does not apply to 'runtime: ctranslate2'"
    return None


def ctranslate2_machine_check(spec: ModelSpec, device: str) -> tuple[str, str] | None:
    """(field, problem) when faster-whisper, which runs CTranslate2 Whisper models, is missing."""
    if importlib.util.find_spec("faster_whisper") is None:
        return (
            "runtime",
            "'runtime: ctranslate2' needs faster-whisper: pip install 'auditkit[speech]'",
        )
    return None


@register_builder(
    "speech-recognition",
    "ctranslate2",
    check=ctranslate2_check,
    machine_check=ctranslate2_machine_check,
)
def load_whisper_ctranslate2(spec: ModelSpec, device: str, started: float) -> LoadedModel:
    try:
        import ctranslate2
        import faster_whisper
    except ImportError:
        raise ModelLoadError(
            "'runtime: ctranslate2' needs faster-whisper: pip install 'auditkit[speech]'"
        ) from None
    checkpoint = locate_checkpoint(spec, spec.parsed_source)
    folder = Path(checkpoint.location)
    compute_type = ct2_compute_type(spec, device)
    device_type = device.partition(":")[0]
    supported = sorted(ctranslate2.get_supported_compute_types(device_type))
    if compute_type != "default" and compute_type not in supported:
        raise ModelLoadError(
            f"CTranslate2 cannot compute in {compute_type} on this {device_type} (it can in: "
            f"{', '.join(supported)}): choose another dtype or quantization"
        )
    threads = cpu_threads()
    from auditkit.engine.whisper_ct2 import CT2Whisper

    engine = CT2Whisper(
        folder, name=spec.id, device=device, compute_type=compute_type, cpu_threads=threads
    )
    footprint = engine.footprint()
    notes = []
    if engine.stored is None:
        notes.append(
            "parameters unknown: model.bin's header is in a format auditkit does not read "
            "(0 recorded)"
        )
    quantized = spec.quantization == "int8-dynamic"
    info = build_info(
        spec,
        checkpoint,
        architecture=f"{engine.stored.spec_name if engine.stored else 'Whisper'} (CTranslate2)",
        parameters=footprint.parameters,
        dtype=engine.compute_type,
        device=str(device),
        started=started,
        notes=notes,
        extra_files=_present(folder, CT2_FILES),
        quantization_detail=(
            QuantizationDetail(
                scheme="int8-dynamic", library="ctranslate2", weight_bits=8, activation_bits=8
            )
            if quantized
            else None
        ),
        runtime_detail={
            "ctranslate2": ctranslate2.__version__,
            "faster_whisper": faster_whisper.__version__,
            "compute_type": engine.compute_type,
            # CTranslate2 converts the stored weights to the compute type as it loads them; the
            # footprint's parameter bytes are those stored in model.bin.
            "stored_dtype": footprint.dtype,
            "cpu_threads": str(threads) if threads else "CTranslate2's default",
        },
    )
    return LoadedModel(spec, engine, info)


def ct2_compute_type(spec: ModelSpec, device: str) -> str:
    """CTranslate2's compute type for the suite's variant (see the module docstring)."""
    if spec.quantization == "int8-dynamic":
        return "int8"
    if spec.dtype != "auto":
        return spec.dtype
    return "default" if device.startswith("cuda") else "float32"


def cpu_threads() -> int:
    """Threads for CTranslate2 on a CPU: every CPU this process may use (as PyTorch takes),
    unless ``OMP_NUM_THREADS`` is set, which CTranslate2 then follows (0)."""
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return 0
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 0


def _present(folder: Path, names: tuple[str, ...]) -> list[Path]:
    return [folder / name for name in names if (folder / name).is_file()]
