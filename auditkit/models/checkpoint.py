"""Where a model's files are, which of them loading reads, and the license they declare.

One function, ``locate_checkpoint``, decides the files that make up a model; the loader reads
them and the result cache hashes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import ModelLoadError
from auditkit.models.metadata import (
    PICKLE_WEIGHT_SUFFIXES,
    SAFE_WEIGHT_SUFFIXES,
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
        license_id = card_license(folder)
        return Checkpoint(
            str(folder),
            None,
            weights_loaded(folder, spec),
            license_id,
            "model card" if license_id else None,
        )
    if source.kind == "hf":
        folder = source.path if source.path is not None else _fetch_from_hub(spec, source.target)
        if not (folder / "config.json").is_file():
            raise ModelLoadError(f"{folder} has no config.json: not a transformers model folder")
        files = weights_loaded(folder, spec)
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


def adapter_base(adapter: Path) -> ModelSource:
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelLoadError(f"{adapter}/adapter_config.json names no base model; set 'base:'")
    try:
        return ModelSource.parse(f"hf:{base}", adapter)
    except ValueError as exc:
        raise ModelLoadError(f"adapter base model: {exc}") from None


def files_loading_reads(spec: ModelSpec) -> list[tuple[str, Path]]:
    """(role, path) of every file that loading ``spec`` reads: weights, configs, tokenizer
    files, the model card. The result cache keys a model by their hashes; ``locate_checkpoint``
    picks the weights among them that the loader reads and records."""
    source = spec.parsed_source
    if source.kind == "mock":
        return []
    if source.kind == "peft":
        assert source.path is not None
        base = spec.parsed_base or adapter_base(source.path)
        adapter = [("adapter", path) for _, path in _folder_files(source.path, spec)]
        return [*adapter, *_source_paths(base, spec)]
    return _source_paths(source, spec)


def weights_loaded(folder: Path, spec: ModelSpec) -> list[Path]:
    """The weight files of ``folder`` that loading ``spec`` reads, by the one rule both the
    loader and the result cache follow: safetensors win when both formats are there; pickle
    weights only with ``allow_pickle`` (they can run code when loaded); a CTranslate2 folder's
    ``model.bin`` is its own flat format, not a pickle."""
    if spec.runtime == "ctranslate2":
        if not (folder / CT2_WEIGHT_FILE).is_file():
            raise ModelLoadError(
                f"{folder} has no {CT2_WEIGHT_FILE}: not a CTranslate2 model folder (convert "
                "it with ct2-transformers-converter)"
            )
        return [folder / CT2_WEIGHT_FILE]
    files = weight_files(folder)
    if not spec.allow_pickle and files and all(f.suffix in PICKLE_WEIGHT_SUFFIXES for f in files):
        raise ModelLoadError(
            f"{folder} has only pickle-format weights ({files[0].name}), which can run code "
            "when loaded; convert them to safetensors or set 'allow_pickle: true' for this model"
        )
    if not spec.allow_pickle or any(f.suffix == ".safetensors" for f in files):
        files = [f for f in files if f.suffix not in PICKLE_WEIGHT_SUFFIXES]
    return files


def _source_paths(source: ModelSource, spec: ModelSpec) -> list[tuple[str, Path]]:
    if source.path is not None and source.path.is_file():
        return [("model", source.path)]
    if source.path is not None:
        return _folder_files(source.path, spec)
    if source.kind == "hf":
        return _folder_files(_hub_snapshot(source.target, spec), spec)
    raise ValueError(f"no files for {source.kind}:{source.target}")


def _folder_files(folder: Path, spec: ModelSpec) -> list[tuple[str, Path]]:
    """Every file at the top of a model folder that loading may read: the weights it loads
    (``weights_loaded``) and every other visible file (configs, tokenizer, model card)."""
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    weight_suffixes = (*SAFE_WEIGHT_SUFFIXES, *PICKLE_WEIGHT_SUFFIXES)
    others = [
        path
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith(".") and path.suffix not in weight_suffixes
    ]
    weights = weights_loaded(folder, spec) if (folder / "config.json").is_file() else []
    if spec.runtime != "ctranslate2" and not weights:  # an adapter folder: its own weights
        weights = [f for f in weight_files(folder) if f.suffix not in PICKLE_WEIGHT_SUFFIXES]
    return [("model", path) for path in sorted({*others, *weights})]


def _hub_snapshot(repo_id: str, spec: ModelSpec) -> Path:
    """The local copy of a hub model, if one was downloaded before; never reaches the network."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id, revision=spec.revision, local_files_only=True))
