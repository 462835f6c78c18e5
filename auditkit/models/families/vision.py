"""Image classifiers and object detectors through transformers.

A checkpoint folder (or hub id) with a ``config.json`` and a ``preprocessor_config.json`` loads
with ``AutoModelForImageClassification`` or ``AutoModelForObjectDetection`` and the image processor
beside it, with the processor's PIL backend (torchvision is never needed), and runs behind
``HFImageClassifier`` or ``HFObjectDetector``. ``dtype`` is honoured; pruning and auditkit's
PyTorch quantization schemes apply to the loaded model as for language models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.errors import ModelLoadError
from auditkit.models.checkpoint import Checkpoint, locate_checkpoint
from auditkit.models.families._info import pytorch_info
from auditkit.models.families._pretrained import pretrained_options, refuse_split_placement
from auditkit.models.loaded import LoadedModel
from auditkit.models.loader import register_builder
from auditkit.models.spec import ModelSpec

PROCESSOR_CONFIG = "preprocessor_config.json"


@register_builder("image-classification", "transformers")
@register_builder("object-detection", "transformers")
def load_vision_model(spec: ModelSpec, device: str, started: float) -> LoadedModel:
    refuse_split_placement(spec, "vision")
    checkpoint = locate_checkpoint(spec, spec.parsed_source)
    model, processor = _from_pretrained(spec, checkpoint, device)
    model.to(device)
    from auditkit.models.variant import transform_weights

    build = transform_weights(model, spec, device)
    on_disk = sum(f.stat().st_size for f in checkpoint.files)
    engine: Any
    if spec.model_task == "image-classification":
        from auditkit.engine.vision_hf import HFImageClassifier

        engine = HFImageClassifier(
            model, processor, name=spec.id, batch_size=spec.batch_size or 32, bytes_on_disk=on_disk
        )
    else:
        from auditkit.engine.vision_hf import HFObjectDetector

        engine = HFObjectDetector(
            model, processor, name=spec.id, batch_size=spec.batch_size or 8, bytes_on_disk=on_disk
        )
    processor_file = Path(checkpoint.location) / PROCESSOR_CONFIG
    info = pytorch_info(
        spec,
        checkpoint,
        model,
        build,
        device=str(device),
        started=started,
        # The preprocessing decides the pixels the model sees: its file is hashed with the weights.
        extra_files=[processor_file] if processor_file.is_file() else [],
    )
    return LoadedModel(spec, engine, info, [model])


def _from_pretrained(spec: ModelSpec, checkpoint: Checkpoint, device: str) -> tuple[Any, Any]:
    from transformers import (
        AutoImageProcessor,
        AutoModelForImageClassification,
        AutoModelForObjectDetection,
    )

    common, options = pretrained_options(spec, checkpoint, device)
    auto_class: Any = (
        AutoModelForImageClassification
        if spec.model_task == "image-classification"
        else AutoModelForObjectDetection
    )
    try:
        processor = AutoImageProcessor.from_pretrained(checkpoint.location, backend="pil", **common)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(
            f"{checkpoint.location} has no image processor ({PROCESSOR_CONFIG}): {reason}"
        ) from exc
    model = auto_class.from_pretrained(checkpoint.location, **options)
    return model, processor
