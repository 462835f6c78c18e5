"""The result cache: finished (model × probe) results, stored the moment each one finishes.

A killed or crashed run loses at most the probe that was running: rerun the same command and
every (model × probe) already in the cache is taken from it, and a model whose probes are all
cached is not even loaded. Keys are content hashes (``cache_keys``), so editing a data file or
changing a model's dtype misses, while renaming a probe, moving a folder or running on another
number of GPUs hits.

The store is one SQLite file in WAL mode: each result is one atomic transaction, readers (such as
``auditkit cache info``) never block the writer, and several runs may share one cache folder.
Values are zlib-compressed JSON, never pickles: reading a cache cannot run code.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CACHE_DIR_NAME = ".auditkit-cache"
CACHE_FILE = "cache.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS probe_results (
    key TEXT PRIMARY KEY,
    model_key TEXT NOT NULL,
    model_label TEXT NOT NULL,
    probe_kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS probe_results_model ON probe_results (model_key);
CREATE TABLE IF NOT EXISTS model_infos (
    key TEXT PRIMARY KEY,
    model_key TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL
);
"""


def default_cache_dir(out_dir: Path) -> Path:
    """``.auditkit-cache/`` beside the output folder, so that reruns into it find it."""
    return out_dir.resolve().parent / CACHE_DIR_NAME


class CacheError(Exception):
    """The cache file exists but cannot be used (corrupt, from a newer auditkit, read-only)."""


@dataclass(frozen=True)
class ModelEntries:
    """What ``cache info`` shows for one model."""

    model_key: str
    label: str
    probes: int
    bytes: int


@dataclass(frozen=True)
class CacheStats:
    path: Path
    file_bytes: int
    probe_results: int
    model_infos: int
    models: list[ModelEntries]


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode("utf-8"), 6)


def _unpack(blob: bytes) -> Any:
    """The stored value, or ``None`` for a damaged entry (then recomputed, never trusted)."""
    try:
        return json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError):
        return None


class ResultCache:
    """A cache folder holding one SQLite database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / CACHE_FILE
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a killed process never corrupts the file or loses a committed result.
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CacheError(
                    f"{self.path}: written by a newer auditkit (cache schema {version}); "
                    "use another --cache-dir or clear it"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise CacheError(f"{self.path}: cannot use the cache: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def get_result(self, key: str) -> dict[str, Any] | None:
        """The stored outcome of one (model × probe), or ``None``."""
        row = self._db.execute("SELECT payload FROM probe_results WHERE key = ?", (key,)).fetchone()
        value = _unpack(row[0]) if row else None
        return value if isinstance(value, dict) else None

    def put_result(
        self, key: str, *, model_key: str, model_label: str, probe_kind: str, value: dict[str, Any]
    ) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO probe_results VALUES (?, ?, ?, ?, ?, ?)",
                (key, model_key, model_label, probe_kind, _pack(value), _now()),
            )

    def get_info(self, key: str) -> dict[str, Any] | None:
        """A stored ``ModelInfo`` (as JSON data), or ``None``."""
        row = self._db.execute("SELECT payload FROM model_infos WHERE key = ?", (key,)).fetchone()
        value = _unpack(row[0]) if row else None
        return value if isinstance(value, dict) else None

    def put_info(self, key: str, model_key: str, value: dict[str, Any]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO model_infos VALUES (?, ?, ?, ?)",
                (key, model_key, _pack(value), _now()),
            )

    def stats(self) -> CacheStats:
        db = self._db
        rows = db.execute(
            "SELECT model_key, COUNT(*), SUM(LENGTH(payload)) FROM probe_results GROUP BY model_key"
        ).fetchall()
        models = []
        for model_key, count, size in rows:
            # The label most recently stored for this model (a source string from a suite).
            label = db.execute(
                "SELECT model_label FROM probe_results WHERE model_key = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (model_key,),
            ).fetchone()[0]
            models.append(ModelEntries(model_key, label, count, size or 0))
        models.sort(key=lambda m: (m.label, m.model_key))
        file_bytes = sum(
            p.stat().st_size for p in self.folder.glob(f"{CACHE_FILE}*") if p.is_file()
        )
        return CacheStats(
            path=self.path,
            file_bytes=file_bytes,
            probe_results=sum(m.probes for m in models),
            model_infos=db.execute("SELECT COUNT(*) FROM model_infos").fetchone()[0],
            models=models,
        )

    def clear(self) -> int:
        """Remove every entry; returns how many (model × probe) results were removed."""
        with self._write() as db:
            removed: int = db.execute("SELECT COUNT(*) FROM probe_results").fetchone()[0]
            db.execute("DELETE FROM probe_results")
            db.execute("DELETE FROM model_infos")
        self._db.execute("VACUUM")
        return removed


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def open_cache(folder: Path) -> ResultCache:
    """The cache for a run; an unusable folder is bad input (exit code 2) with the way out."""
    from auditkit.errors import UserError

    try:
        return ResultCache(folder)
    except CacheError as exc:
        raise UserError(f"{exc}; pass --no-cache, or another --cache-dir") from None


def describe(stats: CacheStats) -> list[str]:
    """``auditkit cache info``'s lines."""
    lines = [
        f"cache: {stats.path} ({_size(stats.file_bytes)})",
        f"{stats.probe_results} probe results, {stats.model_infos} model infos",
    ]
    if stats.models:
        lines.append("by model:")
        lines += [
            f"  {m.label} [{m.model_key[:12]}]: {m.probes} probe results, {_size(m.bytes)}"
            for m in stats.models
        ]
    return lines


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
