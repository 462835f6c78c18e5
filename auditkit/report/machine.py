"""The machine an audit ran on, in one line for both renderers (which escape it themselves)."""

from __future__ import annotations

from auditkit.results import Environment


def environment_line(env: Environment) -> str:
    """``Python 3.11.9 · Linux-… · CPU AMD EPYC (avx, avx2, fma) · GPUs: NVIDIA H200 (compute
    9.0)``."""
    return f"Python {env.python} · {env.platform} · CPU {cpu_text(env)} · GPUs: {gpus_text(env)}"


def cpu_text(env: Environment) -> str:
    """The CPU with the extensions that decide kernel speed, when they were recorded."""
    return f"{env.cpu} ({', '.join(env.cpu_features)})" if env.cpu_features else env.cpu


def gpus_text(env: Environment) -> str:
    """Each GPU with its compute capability when recorded for every GPU, or ``none``."""
    if not env.gpus:
        return "none"
    if len(env.gpu_capabilities) != len(env.gpus):
        return ", ".join(env.gpus)
    return ", ".join(
        f"{name} (compute {capability})"
        for name, capability in zip(env.gpus, env.gpu_capabilities, strict=True)
    )
