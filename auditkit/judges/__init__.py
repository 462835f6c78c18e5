"""Judges: rules that turn a reply into a verdict, each measured on its own validation set.

Importing this package registers every judge module in it (no import list to edit): a new judge
is one module here with one ``@register_judge`` class and its set in ``auditkit/data/judges/``.
"""

import importlib
import pkgutil

from auditkit.judges._base import JUDGES, Judge, ReplyRow, Verdict, judge_named, register_judge

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["JUDGES", "Judge", "ReplyRow", "Verdict", "judge_named", "register_judge"]
