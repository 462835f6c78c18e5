"""Judges: rules that turn a reply into a verdict, each measured on its own validation set.

Importing this package registers every judge module in it (no import list to edit): a new judge
is one module here with one ``@register_judge`` class and its set in ``auditkit/data/judges/``.
"""

from auditkit.judges._base import JUDGES, Judge, ReplyRow, Verdict, judge_named, register_judge
from auditkit.registry import discover

discover(__name__)

__all__ = ["JUDGES", "Judge", "ReplyRow", "Verdict", "judge_named", "register_judge"]
