"""Third-party components: modules named in ``AUDITKIT_PLUGINS`` are imported at start-up.

A plugin is an ordinary Python module that registers what it defines when it is imported, the
same way auditkit's own modules do (``auditkit.registry``): probe kinds with ``@register_probe``
(``auditkit.probes``), scorers with ``@register_scorer`` (``auditkit.scorers``).
``AUDITKIT_PLUGINS=my_probes,other.pkg.probes auditkit run suite.yaml`` makes them available to
suites (validation and JSON Schema included: the suite model is rebuilt whenever a probe kind is
registered). The command line imports them before anything else, and every worker process
imports them again, since a spawned process starts with nothing imported.
"""

from __future__ import annotations

import importlib
import os

from auditkit.errors import UserError

PLUGINS_ENV = "AUDITKIT_PLUGINS"


def plugin_modules() -> list[str]:
    """Module names listed in ``AUDITKIT_PLUGINS`` (comma-separated), in order."""
    raw = os.environ.get(PLUGINS_ENV, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def import_modules(names: list[str], origin: str = PLUGINS_ENV) -> None:
    """Import ``names``; a module that fails is bad input, reported as one line."""
    import auditkit.probes  # noqa: F401  (the built-in kinds first: a plugin may not reuse a name)

    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # any import failure of a plugin is the user's to fix
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise UserError(
                f"{origin}: cannot import plugin module {name!r}: {type(exc).__name__}: {text} "
                "(is it installed, or on PYTHONPATH?)"
            ) from None


def load_plugins() -> list[str]:
    """Import every module in ``AUDITKIT_PLUGINS``; returns their names."""
    names = plugin_modules()
    import_modules(names)
    return names
