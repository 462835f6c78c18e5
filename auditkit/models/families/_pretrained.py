"""What every transformers family passes to ``from_pretrained``: one recipe, so that a suite's
``dtype``, ``revision``, ``trust_remote_code``, pickle rule and placement mean the same for
language, text2text, vision and speech models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.errors import ModelLoadError
from auditkit.models.checkpoint import Checkpoint
from auditkit.models.spec import BNB_SCHEMES, ModelSpec


def refuse_split_placement(spec: ModelSpec, family: str) -> None:
    """``ModelLoadError`` when ``spec`` asks a ``family`` that loads whole on one device (vision,
    speech) for a bitsandbytes scheme or a ``device_map``."""
    if spec.quantization in BNB_SCHEMES or spec.device_map is not None:
        raise ModelLoadError(
            f"{family} models load whole on one device: bitsandbytes quantization and "
            "'device_map' apply to language models only"
        )


def pretrained_options(
    spec: ModelSpec, checkpoint: Checkpoint, device: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``common``, ``options``): the keyword arguments of every ``from_pretrained`` call on
    ``checkpoint`` (tokenizers and processors too: trust, revision), and those of the model's
    call, which adds the variant (dtype, the safetensors rule, placement, bitsandbytes).

    Also quiets transformers' logs and progress bars for the load."""
    import torch
    from transformers.utils import logging as transformers_logging

    from auditkit.library_logs import quiet_library_logs

    quiet_library_logs()  # for callers of this API that did not start through the CLI
    # auditkit's progress line says what is loading; transformers' own bars would interleave.
    transformers_logging.disable_progress_bar()

    common: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    if spec.revision and not Path(checkpoint.location).exists():
        common["revision"] = spec.revision
    dtype: Any
    if spec.dtype != "auto":
        dtype = getattr(torch, spec.dtype)
    else:
        # GGUF weights are de-quantized, and auditkit's quantization schemes start from float32.
        dtype = torch.float32 if checkpoint.gguf_file or spec.quantization else "auto"
    options: dict[str, Any] = {**common, "dtype": dtype}
    safe = any(f.suffix == ".safetensors" for f in checkpoint.files)
    if not checkpoint.gguf_file and (not spec.allow_pickle or safe):
        options["use_safetensors"] = True
    if spec.device_map is not None:
        options["device_map"] = spec.device_map
    if spec.quantization in BNB_SCHEMES:  # quantized as it is placed: no .to() afterwards
        from auditkit.models.bnb import bnb_load_options

        options.update(bnb_load_options(spec.quantization, device))
    return common, options
