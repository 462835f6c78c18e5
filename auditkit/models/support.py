"""Can this machine build a variant? Answered at validation, before any model loads.

A variant whose runtime, provider or quantization kernel is missing here is a located exit-2
error naming the fix, not a crash minutes into the audit. Checks are cheap: packages are located,
not imported, except ONNX Runtime, whose provider list needs the package (it imports in ~0.2 s).
"""

from __future__ import annotations

import importlib.util

from auditkit.models.spec import BNB_SCHEMES, WEIGHT_ONLY_SCHEMES, ModelSpec


def variant_problem(spec: ModelSpec, device: str) -> tuple[str, str] | None:
    """(field, one-line reason) when ``spec`` cannot run on ``device`` here, else ``None``."""
    if spec.parsed_source.kind == "mock":
        return None
    if spec.runtime == "onnxruntime":
        problem = onnxruntime_problem(spec.providers, device)
        if problem:
            return ("providers" if spec.providers else "runtime", problem)
    scheme = spec.quantization
    if scheme in WEIGHT_ONLY_SCHEMES and spec.runtime == "transformers":
        from auditkit.models.weight_only import weight_only_support

        reason = weight_only_support(scheme, device, spec.group_size)
        if reason:
            return ("quantization", reason)
    if scheme in BNB_SCHEMES:
        from auditkit.models.bnb import bnb_support

        reason = bnb_support(device, scheme)
        if reason:
            return ("quantization", reason)
    return None


def default_providers(device: str) -> list[str]:
    """ONNX Runtime providers for a suite's device: CUDA first on a GPU, the CPU always."""
    if device.startswith("cuda"):
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


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
