"""One registry type for every pluggable kind: probes, scorers, executors and report formats.

A registry maps names to what they name (a probe class, a scorer factory, ...) and records, for
kinds that take parameters, the pydantic model of those parameters. Components register
themselves where they are defined, with ``@REGISTRY.register(name, params=Model)``; a package's
own modules are found by ``discover`` (so adding one is adding a file, with no import list to
edit), and third-party modules named in ``AUDITKIT_PLUGINS`` (``auditkit.plugins``) register the
same way when they are imported.

A registry given a ``home`` package discovers it on first use, so that the module defining a
contract never has to import its implementations (which import it: a cycle).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class UnknownNameError(KeyError, ValueError):
    """A name no component is registered under. A ``KeyError`` (it is a failed lookup) and a
    ``ValueError`` (pydantic validators turn it into a validation error)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Registered(Generic[T]):
    """One registered component."""

    name: str
    value: T
    params: type[BaseModel] | None
    """The pydantic model of the component's parameters (``None``: it takes none)."""


def discover(package: str) -> list[str]:
    """Import every module of ``package`` whose name does not start with ``_``, in name order,
    so that each registers what it defines; returns their full names. Subpackages are imported
    (their ``__init__`` runs), not walked."""
    found = importlib.import_module(package)
    path = getattr(found, "__path__", None)
    if path is None:
        raise TypeError(f"{package} is a module, not a package")
    names = sorted(
        f"{package}.{module.name}"
        for module in pkgutil.iter_modules(path)
        if not module.name.startswith("_")
    )
    for name in names:
        importlib.import_module(name)
    return names


class Registry(Mapping[str, T]):
    """Names → registered components of one kind, in registration order.

    It is a read-only ``Mapping`` (``registry[name]``, ``in``, iteration, ``items()``); a lookup
    of a name nobody registered raises ``UnknownNameError`` listing the known names, with a
    suggestion for a near miss.
    """

    def __init__(self, kind: str, *, home: str | None = None) -> None:
        """``kind`` names what is registered, in messages ("probe", "scorer"); ``home`` is a
        package whose modules register themselves, discovered on the first lookup."""
        self.kind = kind
        self.home = home
        self._entries: dict[str, Registered[T]] = {}
        self._discovered = home is None
        self._listeners: list[Callable[[], None]] = []

    def register(self, name: str, *, params: type[BaseModel] | None = None) -> Callable[[T], T]:
        """Decorator: register the decorated object as ``name`` (see ``add``)."""

        def decorate(value: T) -> T:
            self.add(name, value, params=params)
            return value

        return decorate

    def add(self, name: str, value: T, *, params: type[BaseModel] | None = None) -> T:
        """Register ``value`` as ``name``, with the model of its parameters where it takes any.

        Registering the same object under the same name again does nothing (a module imported
        twice); another object under a taken name is a ``TypeError``."""
        known = self._entries.get(name)
        if known is not None:
            if known.value is value and known.params is params:
                return value
            raise TypeError(
                f"{self.kind} {name!r} is registered twice (by {_origin(known.value)} and "
                f"{_origin(value)})"
            )
        self._entries[name] = Registered(name, value, params)
        self._changed()
        return value

    def pop(self, name: str, default: T | None = None) -> T | None:
        """Remove ``name`` and return what it named (``default`` when nothing): for tests and
        for unloading a plugin."""
        removed = self._entries.pop(name, None)
        if removed is None:
            return default
        self._changed()
        return removed.value

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever a name is added or removed (to drop what was built from
        the registry, such as the suite model)."""
        self._listeners.append(callback)

    def entry(self, name: str) -> Registered[T]:
        """The registration of ``name``; ``UnknownNameError`` when there is none."""
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown(name)) from None

    def entries(self) -> list[Registered[T]]:
        """Every registration, in registration order."""
        self._discover()
        return list(self._entries.values())

    def params(self, name: str) -> type[BaseModel] | None:
        """The parameters model ``name`` was registered with."""
        return self.entry(name).params

    def unknown(self, name: str) -> str:
        """The message for a lookup of ``name`` that finds nothing."""
        known = sorted(self)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; known: {', '.join(known)}"

    def __getitem__(self, name: str) -> T:
        return self.entry(name).value

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self._discover()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self._discover()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"

    def _discover(self) -> None:
        if self._discovered or self.home is None:
            return
        self._discovered = True  # before importing: the modules register while it runs
        try:
            discover(self.home)
        except BaseException:
            self._discovered = False
            raise

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()


def _origin(value: object) -> str:
    module = getattr(value, "__module__", None) or "?"
    return f"{module}.{getattr(value, '__qualname__', type(value).__qualname__)}"
