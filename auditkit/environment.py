"""Describe the machine and software an audit ran on (for results and the manifest)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import psutil

from auditkit.results import Environment

RECORDED_PACKAGES = (
    "auditkit",
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "gguf",
    "lm_eval",
    "datasets",
    "numpy",
    "pydantic",
)


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them (``avx2``, ``avx512_bf16``, ``amx_bf16``…);
    empty where the system does not say."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_cpu_dtype(dtype: str) -> bool | None:
    """Whether this CPU computes ``dtype`` natively (``None``: unknown, e.g. not Linux).

    bfloat16 needs AVX-512 BF16 or AMX; float16 needs AVX-512 FP16 or AMX-FP16. Without them
    PyTorch converts to float32 and back around every operation (about 7× slower than float32
    on an AVX2 CPU)."""
    flags = cpu_flags()
    if not flags:
        return None
    needed = {"bfloat16": {"avx512_bf16", "amx_bf16"}, "float16": {"avx512_fp16", "amx_fp16"}}
    return bool(flags & needed[dtype]) if dtype in needed else True


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def describe_environment() -> Environment:
    gpus: list[str] = []
    cuda: str | None = None
    if "torch" in sys.modules:  # only ask torch when a model run has already imported it
        import torch

        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            cuda = torch.version.cuda
    return Environment(
        python=platform.python_version(),
        platform=platform.platform(),
        packages=_package_versions(),
        cpu=cpu_name(),
        cpu_count=psutil.cpu_count(logical=True) or 1,
        memory_bytes=psutil.virtual_memory().total,
        gpus=gpus,
        cuda=cuda,
    )
