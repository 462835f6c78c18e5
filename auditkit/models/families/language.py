"""Language models and text classifiers through transformers (and ONNX Runtime for the former).

Causal language models (``text-generation``) load with ``AutoModelForCausalLM`` from a folder, a
hub id, a GGUF file or a PEFT adapter, become the chosen variant (dtype, quantization, pruning,
ONNX export) and run behind ``HFCausalLM`` or ``OrtCausalLM``; text classifiers load with
``AutoModelForSequenceClassification`` behind ``HFSequenceClassifier``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.models.checkpoint import Checkpoint, adapter_base, locate_checkpoint
from auditkit.models.families._info import variant_notes
from auditkit.models.families._pretrained import pretrained_options
from auditkit.models.gguf_cache import load_gguf
from auditkit.models.loaded import LoadedModel
from auditkit.models.loader import register_builder
from auditkit.models.metadata import card_license, describe_files, weight_files
from auditkit.models.spec import BNB_SCHEMES, ModelSpec
from auditkit.results import ModelInfo

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


def transformers_check(spec: ModelSpec) -> str | None:
    """Rules of the transformers runtime a suite entry can break (none beyond the spec's own
    today: every dtype, scheme and pruning method runs on it)."""
    return None


@register_builder("text-generation", "transformers", check=transformers_check)
@register_builder("text-classification", "transformers")
def load_transformers(spec: ModelSpec, device: str, started: float) -> LoadedModel:
    source = spec.parsed_source
    adapter: Path | None = None
    if source.kind == "peft":
        assert source.path is not None
        adapter = source.path
        source = spec.parsed_base or adapter_base(source.path)
    checkpoint = locate_checkpoint(spec, source)
    model, tokenizer = _from_pretrained(spec, checkpoint, device)
    license_id, license_source = checkpoint.license, checkpoint.license_source
    if adapter is not None:
        from peft import PeftModel

        # Merged into the base weights: the audited model is exactly what a deployment would run.
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
        checkpoint.files = checkpoint.files + weight_files(adapter)
        adapter_license = card_license(adapter)
        if adapter_license:
            license_id, license_source = adapter_license, "adapter model card"
        elif license_id:
            license_source = "adapter base"
    parameters = sum(p.numel() for p in model.parameters())
    files = describe_files(checkpoint.files)
    engine: object
    if spec.runtime == "onnxruntime":
        from auditkit.models.variant import onnxruntime_engine

        engine, build = onnxruntime_engine(
            model, tokenizer, spec, device=device, weight_hashes=[f.sha256 for f in files]
        )
        detail = build.quantization
        dtype_name = f"int{detail.weight_bits}" if detail else "float32"
        files = files + build.extra_files
        on_disk = sum(f.bytes for f in build.extra_files)
    else:
        from auditkit.models.variant import transform_weights

        if spec.quantization in BNB_SCHEMES:
            pass  # placed on its device while loading
        elif spec.device_map is None:
            model.to(device)  # type: ignore[arg-type]  # transformers types to() narrowly
        else:  # placed by accelerate over the visible GPUs: record where each part went
            placed = {str(d) for d in (getattr(model, "hf_device_map", None) or {}).values()}
            placed = placed or {str(p.device) for p in model.parameters()}  # one device: no map
            device = "auto: " + ", ".join(sorted(f"cuda:{d}" if d.isdigit() else d for d in placed))
        build = transform_weights(model, spec, str(device))
        dtype_name = str(next(model.parameters()).dtype).removeprefix("torch.")
        on_disk = sum(f.bytes for f in files)
        engine = _engine(spec, model, tokenizer, bytes_on_disk=on_disk)
    if spec.license:
        license_id, license_source = spec.license, "suite"
    info = ModelInfo(
        source=spec.source,
        resolved=(
            str(Path(checkpoint.location) / checkpoint.gguf_file)
            if checkpoint.gguf_file
            else checkpoint.location
        ),
        architecture=type(model).__name__,
        parameters=parameters,
        bytes_on_disk=on_disk,
        files=files,
        license=license_id,
        license_source=license_source,
        dtype=dtype_name,
        quantization=spec.quantization,
        quantization_detail=build.quantization,
        pruning=build.pruning,
        task=spec.model_task,
        runtime=spec.runtime,
        runtime_detail=build.runtime_detail,
        device=str(device),
        load_seconds=time.perf_counter() - started,
        trust_remote_code=spec.trust_remote_code,
        adapter=str(adapter) if adapter else None,
        notes=[*variant_notes(spec, str(device)), *build.notes, *getattr(engine, "notes", [])],
    )
    if spec.runtime == "onnxruntime":
        # ONNX Runtime holds its own copy of the weights: give the PyTorch copy back to the
        # system, so that the process's memory is the deployed build's.
        del model
        _release_heap()
        return LoadedModel(spec, engine, info)
    return LoadedModel(spec, engine, info, [model])


def _release_heap() -> None:
    """Collect garbage and return freed heap pages to the system (glibc's ``malloc_trim``)."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc).malloc_trim(0)


def _engine(
    spec: ModelSpec,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    *,
    bytes_on_disk: int,
) -> object:
    if spec.model_task == "text-classification":
        from auditkit.engine.classifier import HFSequenceClassifier

        return HFSequenceClassifier(model, tokenizer, name=spec.id, bytes_on_disk=bytes_on_disk)
    from auditkit.engine.hf import HFCausalLM

    engine = HFCausalLM(
        model, tokenizer, name=spec.id, bytes_on_disk=bytes_on_disk, batch_size=spec.batch_size
    )
    engine.check_packing()  # once, at load, so that its outcome is part of the model's info
    return engine


def _from_pretrained(
    spec: ModelSpec, checkpoint: Checkpoint, device: str
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    _, options = pretrained_options(spec, checkpoint, device)
    auto_class: Any = (
        AutoModelForSequenceClassification
        if spec.model_task == "text-classification"
        else AutoModelForCausalLM
    )

    def load(location: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
        tokenizer_kwargs = {
            k: v for k, v in kwargs.items() if k in ("trust_remote_code", "revision", "gguf_file")
        }
        tokenizer = AutoTokenizer.from_pretrained(location, **tokenizer_kwargs)
        return auto_class.from_pretrained(location, **kwargs), tokenizer

    if checkpoint.gguf_file:
        gguf = Path(checkpoint.location) / checkpoint.gguf_file
        model, tokenizer = load_gguf(gguf, auto_class.__name__, load, options)
    else:
        model, tokenizer = load(checkpoint.location, options)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
