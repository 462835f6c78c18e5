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


def package_license(package: str) -> str | None:
    """The license an installed Python package declares for itself (``License-Expression``,
    else ``License``, else its ``License ::`` classifier), for models that ship inside one."""
    from importlib import metadata

    for distribution in metadata.packages_distributions().get(package, [package]):
        try:
            meta = metadata.metadata(distribution)
        except metadata.PackageNotFoundError:
            continue
        declared = meta["License-Expression"] or meta["License"]
        if declared and declared.strip() and declared.strip().upper() != "UNKNOWN":
            first_line = declared.strip().splitlines()[0]
            if len(first_line) <= 80:  # a name, not the license's whole text
                return first_line
        for classifier in meta.get_all("Classifier") or []:
            if classifier.startswith("License ::") and "OSI Approved ::" in classifier:
                return classifier.rsplit("::", 1)[1].strip()
    return None


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
    value = gguf_metadata_value(path, "general.license")
    return str(value) if value else None


_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_GGUF_SCALARS |= {10: "<Q", 11: "<q", 12: "<d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def gguf_metadata_value(path: Path, key: str) -> str | int | float | bool | None:
    """The scalar or string value of ``key`` in a GGUF file's header (``None`` if absent).

    Reads the key/value section only, skipping arrays without decoding them: the tokenizer's
    vocabulary arrays make a full parse (``gguf.GGUFReader``) take seconds, this a few
    milliseconds. Little-endian GGUF version 2 or 3; other files go through ``GGUFReader``.
    """
    import struct

    with path.open("rb") as stream:

        def read(fmt: str) -> Any:
            return struct.unpack(fmt, stream.read(struct.calcsize(fmt)))[0]

        def read_string() -> bytes:
            return stream.read(read("<Q"))

        def skip(value_type: int) -> None:
            if value_type == _GGUF_STRING:
                stream.seek(read("<Q"), 1)
            elif value_type == _GGUF_ARRAY:
                item_type, count = read("<I"), read("<Q")
                if item_type in _GGUF_SCALARS:
                    stream.seek(count * struct.calcsize(_GGUF_SCALARS[item_type]), 1)
                else:
                    for _ in range(count):
                        skip(item_type)
            elif value_type in _GGUF_SCALARS:
                stream.seek(struct.calcsize(_GGUF_SCALARS[value_type]), 1)
            else:
                raise ValueError(f"unknown GGUF value type {value_type}")

        if stream.read(4) != b"GGUF" or read("<I") not in (2, 3):
            return _gguf_value_by_full_parse(path, key)
        read("<Q")  # tensor count
        for _ in range(read("<Q")):
            name = read_string().decode("utf-8", errors="replace")
            value_type = read("<I")
            if name != key:
                skip(value_type)
            elif value_type == _GGUF_STRING:
                return read_string().decode("utf-8", errors="replace")
            elif value_type in _GGUF_SCALARS:
                value: str | int | float | bool = read(_GGUF_SCALARS[value_type])
                return value
            else:
                return None
    return None


def _gguf_value_by_full_parse(path: Path, key: str) -> str | int | float | bool | None:
    from gguf import GGUFReader

    field = GGUFReader(path).fields.get(key)
    value = field.contents() if field is not None else None
    return value if isinstance(value, str | int | float | bool) else None
