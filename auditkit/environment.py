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
    "onnx",
    "onnxruntime",
    "torchao",
    "bitsandbytes",
)

CPUINFO = "/proc/cpuinfo"
"""Where Linux describes the CPU."""


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform module says."""
    try:
        with open(CPUINFO, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


X86_KERNEL_FEATURES = frozenset(
    {
        "sse4_2",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512_vnni",
        "avx512_bf16",
        "avx512_fp16",
        "avx_vnni",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
        "amx_fp16",
    }
)
"""x86 extensions that decide which kernels PyTorch and ONNX Runtime can use: vector width
(AVX2, AVX-512), int8 dot products (VNNI), native bfloat16 / float16 arithmetic and AMX tiles."""
ARM_KERNEL_FEATURES = frozenset(
    {"asimd", "asimdhp", "asimddp", "sve", "sve2", "bf16", "i8mm", "svebf16", "svei8mm", "sme"}
)
"""The same for 64-bit ARM: NEON, float16 arithmetic, int8 dot products, SVE, bfloat16, int8
matrix multiply."""
KERNEL_FEATURES = X86_KERNEL_FEATURES | ARM_KERNEL_FEATURES


def _cpuinfo_list(key: str) -> frozenset[str]:
    """The words of the first ``key : …`` line of the CPU description; empty where there is
    none."""
    try:
        with open(CPUINFO, encoding="utf-8") as handle:
            for line in handle:
                name, sep, value = line.partition(":")
                if sep and name.strip() == key:
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux lists them on x86 (``avx2``, ``avx512_bf16``,
    ``amx_bf16``…); empty where the system does not say."""
    return _cpuinfo_list("flags")


def arm_cpu_features() -> frozenset[str]:
    """The CPU's features as Linux lists them on ARM (``asimd``, ``sve``, ``bf16``, ``i8mm``…);
    empty elsewhere."""
    return _cpuinfo_list("Features")


def cpu_features() -> list[str]:
    """The CPU's extensions that decide kernel speed (``KERNEL_FEATURES``), sorted; empty where
    the system does not say."""
    return sorted((cpu_flags() | arm_cpu_features()) & KERNEL_FEATURES)


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


def gpu_capabilities() -> list[str]:
    """Each visible GPU's CUDA compute capability as ``major.minor`` (``8.0``, ``9.0``), in device
    order; empty unless torch is already imported and sees a GPU (this never imports torch)."""
    if "torch" not in sys.modules:
        return []
    import torch

    if not torch.cuda.is_available():
        return []
    capabilities = []
    for index in range(torch.cuda.device_count()):
        major, minor = torch.cuda.get_device_capability(index)
        capabilities.append(f"{major}.{minor}")
    return capabilities


def describe_environment() -> Environment:
    gpus: list[str] = []
    cuda: str | None = None
    capabilities: list[str] = []
    if "torch" in sys.modules:  # only ask torch when a model run has already imported it
        import torch

        if torch.cuda.is_available():
            gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            cuda = torch.version.cuda
            capabilities = gpu_capabilities()
    return Environment(
        python=platform.python_version(),
        platform=platform.platform(),
        packages=_package_versions(),
        cpu=cpu_name(),
        cpu_count=psutil.cpu_count(logical=True) or 1,
        memory_bytes=psutil.virtual_memory().total,
        gpus=gpus,
        cuda=cuda,
        cpu_features=cpu_features(),
        gpu_capabilities=capabilities,
    )
