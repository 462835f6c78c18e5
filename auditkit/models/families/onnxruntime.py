"""The ONNX Runtime runtime for causal language models (``runtime: onnxruntime``).

The model loads through transformers (``language.load_transformers``), is exported once to ONNX
(``models/onnx_export.py``, cached by content) and runs behind ``engine/ort.py``. This module
holds the runtime's registration and its rules: what a suite entry may ask of it, and whether
this machine's ONNX Runtime has the execution providers it names.
"""

from __future__ import annotations

import importlib.util

from auditkit.models.families.language import load_transformers
from auditkit.models.loader import register_builder
from auditkit.models.spec import BNB_SCHEMES, ModelSpec
from auditkit.models.support import default_providers

ORT_PROVIDERS = ("CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider")


def onnxruntime_check(spec: ModelSpec) -> str | None:
    """What ``runtime: onnxruntime`` cannot build: bitsandbytes schemes, non-float32 exports,
    pruning, sharding, unknown providers."""
    scheme = spec.quantization
    if scheme in BNB_SCHEMES:
        return (
            f"'{scheme}' is a bitsandbytes (PyTorch) scheme: on 'runtime: onnxruntime' use "
            "int8-dynamic, int8-weight-only or int4-weight-only"
        )
    if spec.dtype not in ("auto", "float32"):
        return (
            f"'runtime: onnxruntime' exports float32 weights: drop 'dtype: {spec.dtype}' (or "
            "quantize with 'int8-dynamic')"
        )
    if spec.pruning is not None or spec.device_map is not None:
        return "'pruning' and 'device_map' apply to 'runtime: transformers' only"
    for provider in spec.providers or []:
        if provider not in ORT_PROVIDERS:
            return f"unknown ONNX Runtime provider {provider!r}: use " + ", ".join(
                repr(p) for p in ORT_PROVIDERS
            )
    return None


def onnxruntime_machine_check(spec: ModelSpec, device: str) -> tuple[str, str] | None:
    """(field, problem) when this machine's ONNX Runtime lacks the providers ``spec`` needs."""
    problem = onnxruntime_problem(spec.providers, device)
    if problem:
        return ("providers" if spec.providers else "runtime", problem)
    return None


def onnxruntime_problem(providers: list[str] | None, device: str) -> str | None:
    if importlib.util.find_spec("onnxruntime") is None:
        return "'runtime: onnxruntime' needs ONNX Runtime: pip install onnxruntime"
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    wanted = providers or default_providers(device)
    missing = [p for p in wanted if p not in available]
    if missing and providers is None and device == "auto":
        return None  # auto falls back to the CPU provider, which every build has
    if missing:
        return (
            f"ONNX Runtime here has no {', '.join(missing)} (available: "
            f"{', '.join(sorted(available))}); install the matching onnxruntime build "
            "(e.g. onnxruntime-gpu) or drop the provider"
        )
    return None


register_builder(
    "text-generation",
    "onnxruntime",
    check=onnxruntime_check,
    machine_check=onnxruntime_machine_check,
)(load_transformers)
