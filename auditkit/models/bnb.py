"""bitsandbytes quantization at load (CUDA only): ``bnb-int8`` and ``bnb-nf4``.

transformers quantizes the weights while it loads them, given a ``BitsAndBytesConfig``:

- ``bnb-int8``: LLM.int8(): int8 weights (one scale per output row) multiplied with int8
  activations (one scale per token); activation columns with an outlier above the threshold
  (transformers' default, 6.0) are multiplied in float16 instead.
- ``bnb-nf4``: 4-bit NormalFloat weights in blocks of 64 (one scale per block), de-quantized
  to bfloat16 for every product; activations stay in bfloat16.

The output head stays unquantized (transformers keeps it out of the quantizer). Nothing here
imports bitsandbytes: ``transformers.BitsAndBytesConfig`` does not need it, and the check of
whether it is installed only looks the package up.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from auditkit.results import QuantizationDetail

LIBRARY = "bitsandbytes"
SCHEMES = ("bnb-int8", "bnb-nf4")
NF4_BLOCK_SIZE = 64
"""Weights per scale in bitsandbytes' 4-bit formats."""
INSTALL = "pip install bitsandbytes"


def bnb_support(device: str, scheme: str | None = None) -> str | None:
    """``None`` when bitsandbytes can quantize on ``device`` here, else one line saying why not
    and what to do. ``scheme`` only words the message. Cheap: bitsandbytes is looked up, not
    imported, and CUDA is not initialised (whether a named GPU exists is the device check's
    business; only ``auto`` asks torch whether it would mean one)."""
    what = f"'{scheme}'" if scheme else "bitsandbytes quantization"
    if scheme is not None and scheme not in SCHEMES:
        return f"unknown bitsandbytes scheme {scheme!r}: use " + " or ".join(map(repr, SCHEMES))
    kind = device.partition(":")[0]
    where = f"device is {device!r}"
    if kind == "auto":
        import torch

        kind = "cuda" if torch.cuda.is_available() else "cpu"
        where = "device 'auto' finds none here"
    if kind != "cuda":
        return f"{what} needs a CUDA GPU ({where}): use 'int8-weight-only' or none"
    if importlib.util.find_spec("bitsandbytes") is None:
        return f"{what} needs bitsandbytes: {INSTALL}"
    return None


def bnb_load_options(scheme: str, device: str | None = None) -> dict[str, Any]:
    """The ``from_pretrained`` keywords that load the model quantized with ``scheme``.

    With ``device`` (e.g. ``cuda:0``) the options also place every module there
    (``device_map={"": device}``): a bitsandbytes model is quantized as it is placed and cannot be
    moved with ``.to()`` afterwards."""
    import torch
    from transformers import BitsAndBytesConfig

    if scheme == "bnb-int8":
        config = BitsAndBytesConfig(load_in_8bit=True)
    elif scheme == "bnb-nf4":
        config = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    else:
        raise ValueError(f"unknown bitsandbytes scheme {scheme!r}")
    options: dict[str, Any] = {"quantization_config": config}
    if device is not None:
        options["device_map"] = {"": device}
    return options


def bnb_detail(scheme: str) -> QuantizationDetail:
    """What ``scheme`` does, as results record it."""
    if scheme == "bnb-int8":
        return QuantizationDetail(scheme=scheme, library=LIBRARY, weight_bits=8, activation_bits=8)
    if scheme == "bnb-nf4":
        return QuantizationDetail(
            scheme=scheme, library=LIBRARY, weight_bits=4, group_size=NF4_BLOCK_SIZE
        )
    raise ValueError(f"unknown bitsandbytes scheme {scheme!r}")
