"""Converted GGUF checkpoints, kept so that a GGUF file is parsed and de-quantized once.

transformers reads a GGUF file by parsing its whole metadata several times (configuration,
tokenizer, weights) and de-quantizing every tensor: ~20 s for SmolLM2-135M on a 2-core CPU, paid
again by every variant (float32, bfloat16, int8) of every run. The first load here saves the
de-quantized model (float32 safetensors), its configuration and its tokenizer in a folder named by
the GGUF file's sha256, the transformers version and the model class; every load, the first
included, then reads that folder, so a model is the same whether the folder was just written or
found. Provenance does not change: the audit records the GGUF file, its hash and its license.

Where: ``$AUDITKIT_GGUF_CACHE`` (a folder, or ``off`` to load from the GGUF file every time),
else ``$XDG_CACHE_HOME/auditkit/gguf``, else ``~/.cache/auditkit/gguf``. Models whose float32
weights exceed ``$AUDITKIT_GGUF_CACHE_MAX_GB`` (default 4) are not kept: their copy would cost
more disk than the load time it saves is worth. A folder that cannot be written (read-only,
full) only means the model is loaded from the GGUF file; one that is damaged is converted again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditkit.files import sha256_file, user_cache_folder

CACHE_ENV = "AUDITKIT_GGUF_CACHE"
MAX_GB_ENV = "AUDITKIT_GGUF_CACHE_MAX_GB"
DEFAULT_MAX_GB = 4.0
COMPLETE = "auditkit-complete"
"""Written last: a folder without it is an interrupted conversion and is not used."""

Loader = Callable[[str, dict[str, Any]], tuple[Any, Any]]
"""(location, from_pretrained keyword arguments) → (model, tokenizer)."""


def cache_root() -> Path | None:
    """The folder converted checkpoints live in, or ``None`` when the cache is off."""
    return user_cache_folder(CACHE_ENV, "gguf")


def max_bytes() -> float:
    try:
        return float(os.environ.get(MAX_GB_ENV, DEFAULT_MAX_GB)) * 2**30
    except ValueError:
        return DEFAULT_MAX_GB * 2**30


def conversion_key(gguf: Path, model_class: str) -> str:
    import transformers

    version = transformers.__version__.replace("+", "_")
    return f"{sha256_file(gguf)[:32]}-{model_class}-transformers-{version}"


def load_gguf(
    gguf: Path, model_class: str, load: Loader, options: dict[str, Any]
) -> tuple[Any, Any]:
    """(model, tokenizer) of ``gguf`` with the ``from_pretrained`` ``options`` (dtype, device
    map, ...), through the conversion cache when it is on and usable."""
    root = cache_root()
    direct = {**options, "gguf_file": gguf.name}
    if root is None:
        return load(str(gguf.parent), direct)
    folder = root / conversion_key(gguf, model_class)
    if folder.exists() and not (folder / COMPLETE).is_file():
        shutil.rmtree(folder, ignore_errors=True)  # not ours, or damaged: start again
    if not (folder / COMPLETE).is_file() and not _convert(gguf, folder, load, options):
        return load(str(gguf.parent), direct)
    try:
        return load(str(folder), {**options, "use_safetensors": True})
    except Exception:  # damaged by hand or by a disk fault: convert it again next time
        shutil.rmtree(folder, ignore_errors=True)
        return load(str(gguf.parent), direct)


def _convert(gguf: Path, folder: Path, load: Loader, options: dict[str, Any]) -> bool:
    """Write the float32 conversion of ``gguf`` to ``folder``; whether it is there now."""
    import torch

    kept = {k: v for k, v in options.items() if k in ("trust_remote_code", "revision")}
    model, tokenizer = load(
        str(gguf.parent), {**kept, "gguf_file": gguf.name, "dtype": torch.float32}
    )
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    if size > max_bytes():
        return False
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    except OSError:
        return False
    try:
        _save_plain(model, staging)
        tokenizer.save_pretrained(staging)
        (staging / COMPLETE).write_text(f"converted from {gguf.name}\n", encoding="utf-8")
        os.replace(staging, folder)
    except OSError:
        # Another process finished the same conversion first, or the disk refused: use theirs
        # if it is complete, else load from the GGUF file.
        shutil.rmtree(staging, ignore_errors=True)
    return (folder / COMPLETE).is_file()


def _save_plain(model: Any, folder: Path) -> None:
    """The de-quantized model as an ordinary transformers folder.

    transformers marks a model read from GGUF as quantized and refuses ``save_pretrained``,
    although its weights are plain tensors by then: the configuration is written without its
    GGUF ``quantization_config``, and the weights with safetensors (tied tensors once).
    """
    import copy

    from safetensors.torch import save_model

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(folder)
    if getattr(model, "generation_config", None) is not None and model.can_generate():
        model.generation_config.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"), metadata={"format": "pt"})
