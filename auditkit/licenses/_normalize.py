"""The license knowledge base and the mapping from raw license strings to its entries.

A model's license arrives as whatever its publisher typed: a hub tag (``llama3.1``), a name
(``LLAMA 3.1 COMMUNITY LICENSE``), an SPDX id, a URL, or a placeholder (``other``, ``None``). Each
string is reduced to a comparison key and looked up among the keys of every entry's aliases, so
one alias covers every spelling that differs only in case, punctuation, spacing, a ``.0`` version
suffix, a ``v`` before the version, or the filler words in ``_FILLER_WORDS``. URLs are compared by
prefix, longest first, so ``…/LICENSE-2.0.txt`` and ``…/LICENSE-2.0.html`` both reach the entry
that lists ``…/LICENSE-2.0``.

Matching never guesses: an unversioned name (``apache``, ``gpl``, ``bsd``), an SPDX expression
(``MIT OR Apache-2.0``) or an "or later" variant is left unmatched and so classified as unknown,
which the policy always sends to review. The lookup is deterministic and needs no network.

The knowledge base lives here rather than in the policy module because normalizing needs its
aliases and the policy needs normalizing; this keeps the import graph one-way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any, Literal
from urllib.parse import unquote

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

UNKNOWN_ID = "LicenseRef-unknown"
"""The id of the entry every absent, placeholder or unrecognized license maps to."""

CommercialUse = Literal["yes", "no", "conditional"]
Copyleft = Literal["none", "weak", "strong", "network"]

_KB_FILE = "knowledge_base.yaml"
_FILLER_WORDS = frozenset({"the", "license", "licence", "licensed", "agreement", "version"})
_URL_PATTERN = re.compile(r"^(?:https?://|www\.|[a-z0-9-]+(?:\.[a-z0-9-]+)+/)", re.IGNORECASE)
_ZERO_MINOR = re.compile(r"(?<=\d)\.0(?!\.?\d)")
_WORD = re.compile(r"[a-z0-9+]+")
_VERSION_WORD = re.compile(r"v\d+")
_SPDX_ID = re.compile(r"^(?:LicenseRef-)?[A-Za-z0-9.-]+$")


class LicenseEntry(BaseModel):
    """One license as the knowledge base records it (see the data card, ``README.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    """Short name the entry is filed under; the model-hub tag where there is one."""
    id: str = Field(pattern=_SPDX_ID.pattern)
    """SPDX id, or a ``LicenseRef-`` id where SPDX has none."""
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    """Lower-case spellings and ``https://`` URL prefixes that also name this license."""
    url: str | None
    """Where a person reads the license; ``None`` only for the unknown placeholder."""
    commercial_use: CommercialUse
    attribution_required: bool
    use_restrictions: bool
    """Whether behavioural-use restrictions (an acceptable-use policy) bind users and pass on."""
    copyleft: Copyleft
    user_threshold: int | None = Field(default=None, ge=1)
    """Monthly active users above which a separate license is needed."""
    notes: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://\S+$")
    """The text the facts were taken from."""

    @field_validator("aliases")
    @classmethod
    def _lower_case(cls, aliases: tuple[str, ...]) -> tuple[str, ...]:
        upper = [a for a in aliases if a != a.lower()]
        if upper:
            raise ValueError(f"aliases must be lower case: {upper}")
        return aliases

    @property
    def known(self) -> bool:
        """False for the placeholder that stands for an absent or unrecognized license."""
        return self.id != UNKNOWN_ID

    def spellings(self) -> tuple[str, ...]:
        """Every string that names this entry: key, id, aliases, url and source."""
        extra = tuple(s for s in (self.url, self.source) if s)
        return (self.key, self.id, *self.aliases, *extra)


def knowledge_base() -> dict[str, LicenseEntry]:
    """Every entry, keyed by id. A fresh dict each call, so callers cannot alter the cached one."""
    return dict(_entries())


def normalize_license(raw: str | None) -> str:
    """The knowledge-base id ``raw`` names, or ``LicenseRef-unknown`` when it names none we know.

    ``None``, empty text and placeholders (``other``, ``unknown``, ``None``) are unknown, and so is
    any string no alias matches; callers keep the raw text themselves to show what was found.
    """
    entry = resolve_license(raw)
    return entry.id if entry is not None else UNKNOWN_ID


def resolve_license(raw: str | None) -> LicenseEntry | None:
    """The entry ``raw`` names; the unknown entry for no license or a placeholder.

    ``None`` means the text names a license this knowledge base does not know, which the policy
    explains differently from a license that was never declared.
    """
    text = (raw or "").strip()
    if not text:
        return _entries()[UNKNOWN_ID]
    if _is_url(text):
        return _match_url(_url_key(text))
    key = _text_key(text)
    if not key:
        return _entries()[UNKNOWN_ID]
    return _text_index().get(key)


def _is_url(text: str) -> bool:
    return _URL_PATTERN.match(text) is not None


def _text_key(text: str) -> str:
    """Reduce a license name to what distinguishes it: letters, digits, ``+`` and the version.

    ``Apache License, Version 2.0``, ``apache-2.0`` and ``Apache 2`` all become ``apache2``; the
    ``+`` survives so that ``openrail++`` stays apart from ``openrail``.
    """
    lowered = _ZERO_MINOR.sub("", text.lower())
    words = (w for w in _WORD.findall(lowered) if w not in _FILLER_WORDS)
    return "".join(w[1:] if _VERSION_WORD.fullmatch(w) else w for w in words)


def _url_key(url: str) -> str:
    """A URL without scheme, ``www.``, query, fragment, escapes, case or trailing slash."""
    key = unquote(url.strip()).lower()
    key = re.sub(r"^https?://", "", key)
    key = key.removeprefix("www.")
    key = re.split(r"[?#]", key, maxsplit=1)[0]
    return key.rstrip("/")


def _match_url(key: str) -> LicenseEntry | None:
    """The entry with the longest URL prefix of ``key`` that ends at a path or extension break."""
    for prefix, entry in _url_index():
        if key == prefix or (key.startswith(prefix) and key[len(prefix)] in "/."):
            return entry
    return None


@functools.cache
def _entries() -> dict[str, LicenseEntry]:
    """Load, validate and collision-check the packaged knowledge base once per process."""
    text = resources.files("auditkit.licenses").joinpath(_KB_FILE).read_text(encoding="utf-8")
    entries = parse_knowledge_base(yaml.safe_load(text))
    build_indexes(entries.values())  # fail on the first use, not on the first colliding lookup
    return entries


def parse_knowledge_base(data: Any) -> dict[str, LicenseEntry]:
    """Entries keyed by id, from the parsed YAML; raises ``ValueError`` naming what is wrong.

    A broken knowledge base is a packaging bug, so it fails loudly on first use rather than
    quietly classifying every license as unknown.
    """
    if not isinstance(data, dict) or not isinstance(data.get("licenses"), dict):
        raise ValueError(f"{_KB_FILE}: expected a mapping with a 'licenses' mapping")
    entries: dict[str, LicenseEntry] = {}
    for key, fields in data["licenses"].items():
        entry = _parse_entry(str(key), fields)
        if entry.id in entries:
            raise ValueError(f"{_KB_FILE}: id {entry.id} is used by two entries")
        entries[entry.id] = entry
    if UNKNOWN_ID not in entries:
        raise ValueError(f"{_KB_FILE}: the {UNKNOWN_ID} entry is missing")
    return entries


def _parse_entry(key: str, fields: Any) -> LicenseEntry:
    if not isinstance(fields, dict):
        raise ValueError(f"{_KB_FILE}: {key}: expected a mapping of fields")
    try:
        return LicenseEntry(key=key, **fields)
    except ValidationError as exc:
        raise ValueError(f"{_KB_FILE}: {key}: {exc}") from exc


def build_indexes(
    entries: Iterable[LicenseEntry],
) -> tuple[dict[str, LicenseEntry], list[tuple[str, LicenseEntry]]]:
    """The text-key index and the URL prefixes (longest first) of ``entries``.

    Raises ``ValueError`` when one spelling would name two licenses, since the answer would then
    depend on file order.
    """
    text_index: dict[str, LicenseEntry] = {}
    url_index: dict[str, LicenseEntry] = {}
    for entry in entries:
        for spelling in entry.spellings():
            index, key = (
                (url_index, _url_key(spelling))
                if spelling.startswith(("http://", "https://"))
                else (text_index, _text_key(spelling))
            )
            _add(index, key, entry, spelling)
    urls = sorted(url_index.items(), key=lambda item: (-len(item[0]), item[0]))
    return text_index, urls


def _add(index: dict[str, LicenseEntry], key: str, entry: LicenseEntry, spelling: str) -> None:
    if not key:
        raise ValueError(f"{_KB_FILE}: {entry.key}: alias {spelling!r} has nothing to match on")
    other = index.setdefault(key, entry)
    if other.id != entry.id:
        raise ValueError(
            f"{_KB_FILE}: alias {spelling!r} of {entry.id} also matches {other.id} (as {key!r})"
        )


@functools.cache
def _indexes() -> tuple[dict[str, LicenseEntry], list[tuple[str, LicenseEntry]]]:
    return build_indexes(_entries().values())


def _text_index() -> dict[str, LicenseEntry]:
    return _indexes()[0]


def _url_index() -> list[tuple[str, LicenseEntry]]:
    return _indexes()[1]
