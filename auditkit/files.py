"""File helpers: atomic writes, content hashes, reading user files, paths written in suites."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo

from auditkit.errors import UserError

_CHUNK = 1 << 20
_sha256_memo: dict[tuple[str, int, int], str] = {}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, remembered per (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _sha256_memo:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        _sha256_memo[key] = digest.hexdigest()
    return _sha256_memo[key]


def read_user_text(path: Path) -> str:
    """A user's text file (suite, data), with every failure a one-line ``UserError``."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        bad_line = exc.object[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}: cannot read: {exc} (line {bad_line}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None


def _resolve_suite_path(value: Path, info: ValidationInfo) -> Path:
    base_dir = Path((info.context or {}).get("base_dir", "."))
    path = value.expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.exists():
        raise ValueError(f"file not found: {path}")
    return path


SuitePath = Annotated[Path, AfterValidator(_resolve_suite_path)]
"""A path written in a suite: relative to the suite file, and required to exist."""


def user_cache_folder(env_var: str, name: str) -> Path | None:
    """Where auditkit keeps ``name`` (``gguf``, ``onnx``…): the folder ``$env_var`` names
    (``off`` turns it off: ``None``), else ``$XDG_CACHE_HOME/auditkit/NAME``, else
    ``~/.cache/auditkit/NAME``."""
    configured = os.environ.get(env_var, "").strip()
    if configured.lower() in ("off", "0", "false", "no"):
        return None
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "auditkit" / name
