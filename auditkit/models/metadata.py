"""Metadata read from model files without loading weights: licenses and weight files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditkit.files import sha256_file
from auditkit.results import ModelFile

SAFE_WEIGHT_SUFFIXES = (".safetensors", ".gguf")
PICKLE_WEIGHT_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def weight_files(path: Path) -> list[Path]:
    """The weight files of a model file or folder (safetensors, GGUF and pickle formats)."""
    if path.is_file():
        return [path]
    suffixes = SAFE_WEIGHT_SUFFIXES + PICKLE_WEIGHT_SUFFIXES
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in suffixes)


def describe_files(paths: list[Path]) -> list[ModelFile]:
    return [ModelFile(path=str(p), bytes=p.stat().st_size, sha256=sha256_file(p)) for p in paths]


def card_license(folder: Path) -> str | None:
    """``license`` (or ``license_name`` for ``other``) from a model card's YAML front matter."""
    card = folder / "README.md"
    if not card.is_file():
        return None
    front = _front_matter(card.read_text(encoding="utf-8", errors="replace"))
    license_id = front.get("license")
    if isinstance(license_id, list):
        license_id = license_id[0] if license_id else None
    if license_id == "other" and front.get("license_name"):
        license_id = front["license_name"]
    return str(license_id) if license_id else None


def _front_matter(text: str) -> dict[str, Any]:
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end == -1:
        return {}
    try:
        data = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def gguf_license(path: Path) -> str | None:
    """``general.license`` from a GGUF file's metadata."""
    from gguf import GGUFReader

    field = GGUFReader(path).fields.get("general.license")
    if field is None:
        return None
    value = field.contents()
    return str(value) if value else None
