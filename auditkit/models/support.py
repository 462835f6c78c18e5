"""Can this machine build a variant? Answered at validation, before any model loads.

A variant whose runtime, provider or quantization kernel is missing here is a located exit-2
error naming the fix, not a crash minutes into the audit. Checks are cheap: packages are located,
not imported, except ONNX Runtime, whose provider list needs the package (it imports in ~0.2 s).
"""

from __future__ import annotations

from auditkit.models.spec import BNB_SCHEMES, WEIGHT_ONLY_SCHEMES, ModelSpec


def variant_problem(spec: ModelSpec, device: str) -> tuple[str, str] | None:
    """(field, one-line reason) when ``spec`` cannot run on ``device`` here, else ``None``."""
    if spec.parsed_source.kind == "mock":
        return None
    from auditkit.models.loader import build_for

    build = build_for(spec.model_task, spec.runtime)
    if build is not None and build.machine_check is not None:
        found = build.machine_check(spec, device)
        if found:
            return found
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
