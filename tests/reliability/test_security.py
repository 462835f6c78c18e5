"""Loading untrusted files: pickles never run code, safetensors win, YAML builds no objects."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import torch

from auditkit.engine import LoglikelihoodRequest
from auditkit.errors import ModelLoadError
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec

PACKAGE = Path(__file__).resolve().parents[2] / "auditkit"


class _Payload:
    """Unpickling this opens (creates) a file: stands for any code a pickle can run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def spec(folder: Path, **fields: object) -> ModelSpec:
    return ModelSpec.model_validate(
        {"id": "m", "source": f"hf:{folder}", **fields}, context={"base_dir": folder.parent}
    )


def malicious_checkpoint(tiny_llama_dir: Path, folder: Path, marker: Path) -> Path:
    """The tiny model's config and tokenizer with a booby-trapped ``pytorch_model.bin``."""
    shutil.copytree(tiny_llama_dir, folder)
    # A real torch checkpoint (zip format): torch.load(weights_only=False) would run the payload.
    torch.save({"model.embed_tokens.weight": _Payload(marker)}, folder / "pytorch_model.bin")
    return folder


def test_allowed_pickle_weights_are_loaded_with_weights_only(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    folder = malicious_checkpoint(tiny_llama_dir, tmp_path / "evil", marker)
    (folder / "model.safetensors").unlink()

    with pytest.raises(ModelLoadError):
        load_model(spec(folder, allow_pickle=True), "cpu")

    assert not marker.exists()
    # The trap is real: an unrestricted unpickler runs it.
    opened = torch.load(folder / "pytorch_model.bin", weights_only=False)
    opened["model.embed_tokens.weight"].close()
    assert marker.exists()


def test_safetensors_are_preferred_when_both_formats_are_there(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "code-ran"
    folder = malicious_checkpoint(tiny_llama_dir, tmp_path / "both", marker)

    loaded = load_model(spec(folder, allow_pickle=True), "cpu")

    assert not marker.exists()
    assert [Path(f.path).name for f in loaded.info.files] == ["model.safetensors"]
    reference = load_model(spec(tiny_llama_dir), "cpu")
    request = [LoglikelihoodRequest("the cat is", " a dog")]
    assert loaded.engine.loglikelihood(request) == reference.engine.loglikelihood(request)


def test_yaml_is_only_ever_read_with_the_safe_loader() -> None:
    unsafe = re.compile(r"yaml\.(load|load_all|unsafe_load|full_load)\(|Loader=yaml\.(Loader|Full)")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if unsafe.search(path.read_text("utf-8"))
    ]
    assert offenders == []
