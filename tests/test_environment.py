"""What the environment records about the hardware: kernel-relevant CPU extensions, GPU compute
capabilities, and whether a dtype runs natively on this CPU."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from auditkit import environment
from auditkit.environment import (
    cpu_features,
    cpu_flags,
    describe_environment,
    gpu_capabilities,
    native_cpu_dtype,
)

AVX2_ONLY = frozenset("fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi2 aes".split())
SAPPHIRE_RAPIDS = AVX2_ONLY | frozenset(
    "avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 avx_vnni amx_tile amx_bf16 "
    "amx_int8".split()
)
X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Example Xeon
flags\t\t: fpu sse2 sse4_2 avx avx2 fma f16c avx512f avx512_bf16 amx_tile amx_bf16 aes
vmx flags\t: vnmi ept
bugs\t\t: spectre_v1

processor\t: 1
flags\t\t: fpu sse2 sse4_2 avx avx2 fma f16c avx512f avx512_bf16 amx_tile amx_bf16 aes
"""
ARM_CPUINFO = (
    "processor\t: 0\n"
    "BogoMIPS\t: 2100.00\n"
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimddp "
    "sve bf16 i8mm\n"
    "CPU implementer\t: 0x41\n"
)


def _flags(monkeypatch: pytest.MonkeyPatch, flags: frozenset[str]) -> None:
    monkeypatch.setattr(environment, "cpu_flags", lambda: flags)


def _cpuinfo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(environment, "CPUINFO", str(path))


def test_avx2_only_cpu_emulates_bfloat16_and_float16(monkeypatch: pytest.MonkeyPatch) -> None:
    _flags(monkeypatch, AVX2_ONLY)
    assert native_cpu_dtype("bfloat16") is False
    assert native_cpu_dtype("float16") is False
    assert native_cpu_dtype("float32") is True


def test_bf16_instructions_make_bfloat16_native(monkeypatch: pytest.MonkeyPatch) -> None:
    _flags(monkeypatch, SAPPHIRE_RAPIDS)
    assert native_cpu_dtype("bfloat16") is True
    assert native_cpu_dtype("float16") is True  # avx512_fp16
    _flags(monkeypatch, AVX2_ONLY | {"amx_bf16"})
    assert native_cpu_dtype("bfloat16") is True
    assert native_cpu_dtype("float16") is False


def test_unknown_flags_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    _flags(monkeypatch, frozenset())
    assert native_cpu_dtype("bfloat16") is None


def test_cpu_features_keep_only_what_decides_kernel_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    _flags(monkeypatch, AVX2_ONLY)
    monkeypatch.setattr(environment, "arm_cpu_features", frozenset)
    assert cpu_features() == ["avx", "avx2", "f16c", "fma", "sse4_2"]
    _flags(monkeypatch, SAPPHIRE_RAPIDS)
    assert cpu_features() == [
        "amx_bf16", "amx_int8", "amx_tile", "avx", "avx2", "avx512_bf16", "avx512_fp16",
        "avx512_vnni", "avx512f", "avx_vnni", "f16c", "fma", "sse4_2",
    ]  # fmt: skip


def test_x86_flags_are_read_from_the_cpu_description(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cpuinfo(monkeypatch, tmp_path, X86_CPUINFO)
    assert "amx_bf16" in cpu_flags() and "ept" not in cpu_flags()  # not the "vmx flags" line
    assert cpu_features() == [
        "amx_bf16", "amx_tile", "avx", "avx2", "avx512_bf16", "avx512f", "f16c", "fma", "sse4_2",
    ]  # fmt: skip
    assert native_cpu_dtype("bfloat16") is True


def test_arm_features_are_read_from_the_cpu_description(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cpuinfo(monkeypatch, tmp_path, ARM_CPUINFO)
    assert cpu_features() == ["asimd", "asimddp", "asimdhp", "bf16", "i8mm", "sve"]
    assert cpu_flags() == frozenset()
    assert native_cpu_dtype("bfloat16") is None  # not judged on ARM


def test_no_cpu_description(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(environment, "CPUINFO", str(tmp_path / "missing"))
    assert cpu_features() == []
    assert cpu_flags() == frozenset()


def _fake_torch(capabilities: list[tuple[int, int]]) -> SimpleNamespace:
    names = [f"GPU {i}" for i in range(len(capabilities))]
    cuda = SimpleNamespace(
        is_available=lambda: bool(capabilities),
        device_count=lambda: len(capabilities),
        get_device_name=lambda i: names[i],
        get_device_capability=lambda i: capabilities[i],
    )
    return SimpleNamespace(cuda=cuda, version=SimpleNamespace(cuda="12.4"))


def test_gpu_capabilities_from_an_imported_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", _fake_torch([(9, 0), (8, 6)]))
    _flags(monkeypatch, AVX2_ONLY)
    monkeypatch.setattr(environment, "arm_cpu_features", frozenset)
    env = describe_environment()
    assert env.gpus == ["GPU 0", "GPU 1"]
    assert env.gpu_capabilities == ["9.0", "8.6"]
    assert env.cuda == "12.4"
    assert env.cpu_features == ["avx", "avx2", "f16c", "fma", "sse4_2"]


def test_no_gpu_capabilities_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", _fake_torch([]))
    assert gpu_capabilities() == []
    assert describe_environment().gpu_capabilities == []


def test_torch_is_never_imported_for_capabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert gpu_capabilities() == []
    assert "torch" not in sys.modules
