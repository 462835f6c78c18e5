"""Error types and the process exit codes they map to.

A ``UserError`` is bad input (suite, data file, CLI usage): it is printed as one line per problem
and ends the process with ``ExitCode.BAD_INPUT``. Any other exception escaping the CLI is a bug in
auditkit and keeps its traceback.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence


class ExitCode(enum.IntEnum):
    OK = 0
    GATE_FAILED = 1
    BAD_INPUT = 2
    RUN_FAILED = 3


class UserError(Exception):
    """Bad input, described by one or more self-contained lines (``FILE:LINE:COL: where: what``)."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ModelLoadError(Exception):
    """A model could not be loaded; the runner records it as an error row (exit code 3)."""
