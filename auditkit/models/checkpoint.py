"""Where a model's files are, which of them loading reads, and the license they declare.

One function, ``locate_checkpoint``, decides the files that make up a model; the loader reads
them and the result cache hashes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import ModelLoadError
from auditkit.models.metadata import (
    PICKLE_WEIGHT_SUFFIXES,
    card_license,
    gguf_license,
    package_license,
    weight_files,
)
from auditkit.models.spec import ModelSource, ModelSpec

CT2_WEIGHT_FILE = "model.bin"
"""The weights of a CTranslate2 model folder."""

# Files fetched for a hub model: weights in safe formats, configs, tokenizer files, model card.
_HUB_SAFE_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.tiktoken", "README.md"]


@dataclass
class Checkpoint:
    """Where transformers should read a model from, and what we know about its files."""

    location: str  # a local folder or a hub id
    gguf_file: str | None
    files: list[Path]
    license: str | None
    license_source: str | None


def locate_checkpoint(spec: ModelSpec, source: ModelSource) -> Checkpoint:
    if source.kind == "pkg":
        assert source.path is not None
        kind = "gguf" if source.path.suffix == ".gguf" else "hf"
        found = locate_checkpoint(spec, ModelSource(kind, str(source.path), source.path))
        if found.license is None:  # the package that carries the model may declare one
            found.license = package_license(source.target.partition("/")[0])
            found.license_source = "package metadata" if found.license else None
        return found
    if source.kind == "gguf":
        assert source.path is not None
        license_id = gguf_license(source.path)
        return Checkpoint(
            str(source.path.parent),
            source.path.name,
            [source.path],
            license_id,
            "gguf metadata" if license_id else None,
        )
    if source.kind == "hf" and spec.runtime == "ctranslate2":
        folder = source.path if source.path is not None else _fetch_from_hub(spec, source.target)
        if not (folder / CT2_WEIGHT_FILE).is_file():
            raise ModelLoadError(
                f"{folder} has no {CT2_WEIGHT_FILE}: not a CTranslate2 model folder (convert "
                "it with ct2-transformers-converter)"
            )
        # CTranslate2's model.bin is its own flat format, not a pickle: it runs no code on load.
        license_id = card_license(folder)
        return Checkpoint(
            str(folder),
            None,
            [folder / CT2_WEIGHT_FILE],
            license_id,
            "model card" if license_id else None,
        )
    if source.kind == "hf":
        folder = source.path if source.path is not None else _fetch_from_hub(spec, source.target)
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder} has no config.json: not a transformers model folder")
        files = weight_files(folder)
        if (
            not spec.allow_pickle
            and files
            and all(f.suffix in PICKLE_WEIGHT_SUFFIXES for f in files)
        ):
            raise ModelLoadError(
                f"{folder} has only pickle-format weights ({files[0].name}), which can run code "
                "when loaded; convert them to safetensors or set 'allow_pickle: true' for this "
                "model"
            )
        if not spec.allow_pickle or any(f.suffix == ".safetensors" for f in files):
            # Safetensors win when both formats are there: only they are loaded (and hashed).
            files = [f for f in files if f.suffix not in PICKLE_WEIGHT_SUFFIXES]
        license_id = card_license(folder)
        return Checkpoint(
            str(folder), None, files, license_id, "model card" if license_id else None
        )
    raise ModelLoadError(f"cannot load a '{source.kind}:' source as a checkpoint")


def _fetch_from_hub(spec: ModelSpec, repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    patterns = [*_HUB_SAFE_PATTERNS, "*.bin", "*.pt"] if spec.allow_pickle else _HUB_SAFE_PATTERNS
    try:
        return Path(snapshot_download(repo_id, revision=spec.revision, allow_patterns=patterns))
    except Exception as exc:
        raise ModelLoadError(
            f"cannot fetch {repo_id!r} from the model hub ({type(exc).__name__}); "
            "with no network, point 'hf:' at a local folder instead"
        ) from exc
