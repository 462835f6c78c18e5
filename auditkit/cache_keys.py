"""Content keys for cached results: what a (model × probe) result depends on, hashed.

A cached probe result is reused only when all of these are unchanged:

- the model: the sha256 of every file the loader reads (weights, config, tokenizer, model card,
  adapter files), named relative to their folder so that a moved folder still matches, plus the
  variant fields of the suite's model entry (dtype, quantization, task, runtime, ...);
- the probe: its validated parameters minus ``id`` and ``gates`` (a renamed probe or a changed
  gate reuses the result), with every data file replaced by the sha256 of its bytes;
- the engine: auditkit's version, a hash of the code and packaged data that compute results
  (everything in the package but the report renderers) and the versions of the numeric
  libraries;
- the suite's seed.

Where a model runs (device, number of GPUs, ``device_map``) is deliberately not part of the key:
a result computed on one machine serves another. Neither is the model's id.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import auditkit
from auditkit.files import sha256_file
from auditkit.models.checkpoint import files_loading_reads
from auditkit.models.spec import ModelSpec
from auditkit.probes.base import Probe

KEY_VERSION = 1
"""Bump when the meaning of a key changes: every older cache entry then misses."""

ENGINE_PACKAGES = (
    "torch",
    "transformers",
    "accelerate",
    "peft",
    "gguf",
    "lm_eval",
    "tokenizers",
    "numpy",
    "scipy",
    "detoxify",
    "fairlearn",
    "onnx",
    "onnxruntime",
    "torchao",
    "bitsandbytes",
)
"""Libraries whose version can change a probe's numbers."""

_NOT_ENGINE = ("report",)
"""Package folders that only render results: changing them leaves every cached result valid."""

MODEL_FIELDS_NOT_IN_KEY = frozenset({"id", "source", "base", "revision", "license", "device_map"})
"""``ModelSpec`` fields that name or place a model but do not change what it computes (the files
they point at are hashed instead). Any other field, including ones added later, is part of the
variant and so of the key."""


def digest(value: Any) -> str:
    """sha256 of ``value`` as canonical JSON."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def engine_version() -> str:
    """Hash of what computes results apart from the model: auditkit's code, data and libraries."""
    root = Path(auditkit.__file__).parent
    code = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            not path.is_file()
            or relative.parts[0] in _NOT_ENGINE
            or "__pycache__" in relative.parts
            or path.suffix in (".pyc", ".pyo")
        ):
            continue
        code.update(f"{relative.as_posix()}\0{sha256_file(path)}\n".encode())
    versions: dict[str, str | None] = {}
    for name in ENGINE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return digest(
        {
            "key_version": KEY_VERSION,
            "auditkit": auditkit.__version__,
            "code": code.hexdigest(),
            "packages": versions,
        }
    )


def _outside_code_hash(probe_class: type) -> str | None:
    """sha256 of a plugin probe's module file (auditkit's own code is in ``engine_version``)."""
    try:
        path = Path(inspect.getfile(probe_class)).resolve()
    except (TypeError, OSError):
        return None
    if path.is_relative_to(Path(auditkit.__file__).parent.resolve()):
        return None
    return sha256_file(path) if path.is_file() else None


def probe_key(probe: Probe[Any], seed: int) -> str:
    """Key of a probe's result, for any model (see the module docstring)."""
    data = {str(path): sha256_file(path) for path in probe.data_files() if path.is_file()}
    params = _replace_paths(probe.spec.model_dump(mode="json", exclude={"id", "gates"}), data)
    return digest(
        {
            "params": params,
            "data": sorted(data.values()),
            "engine": engine_version(),
            "plugin_code": _outside_code_hash(type(probe)),
            "seed": seed,
        }
    )


def _replace_paths(value: Any, hashes: dict[str, str]) -> Any:
    """``value`` with every string naming a hashed data file replaced by ``sha256:<hex>``."""
    if isinstance(value, dict):
        return {k: _replace_paths(v, hashes) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_paths(v, hashes) for v in value]
    if isinstance(value, str) and value in hashes:
        return f"sha256:{hashes[value]}"
    return value


def result_key(model_key: str, probe_key: str) -> str:
    return digest([model_key, probe_key])


HashHint = tuple[str, int, int, str]
"""(resolved path, size, mtime in ns, sha256) of a file hashed already."""


@dataclass(frozen=True)
class ModelFingerprint:
    key: str | None
    """``None`` when the model's files cannot be found before loading it (a hub model not
    downloaded yet): its results are then not cached."""
    hints: tuple[HashHint, ...] = ()
    """The files hashed for the key, so that a worker process does not hash multi-gigabyte
    weights a second time when it records them (see ``remember_hashes``)."""


def fingerprint(spec: ModelSpec) -> ModelFingerprint:
    """The model's key (see the module docstring) and the file hashes it rests on."""
    try:
        paths = files_loading_reads(spec)
        hashed = [(role, path, sha256_file(path)) for role, path in paths]
    except Exception:  # unknown before loading: the loader reports the real problem
        return ModelFingerprint(None)
    variant = spec.model_dump(mode="json", exclude=set(MODEL_FIELDS_NOT_IN_KEY))
    source = spec.parsed_source
    key = digest(
        {
            "files": [(role, path.name, sha) for role, path, sha in hashed],
            "variant": variant,
            "mock": source.target if source.kind == "mock" else None,
        }
    )
    hints = []
    for _, path, sha in hashed:
        stat = path.stat()
        hints.append((str(path.resolve()), stat.st_size, stat.st_mtime_ns, sha))
    return ModelFingerprint(key, tuple(hints))


def remember_hashes(hints: Iterable[HashHint]) -> None:
    """Seed this process's file-hash memo with hashes computed in another process."""
    from auditkit import files

    for path, size, mtime_ns, sha in hints:
        files._sha256_memo[(path, size, mtime_ns)] = sha
