"""Keep a normal run's output clean of messages from libraries that a user cannot act on.

torchao, when installed, is imported by transformers on any model load; its import logs warnings
about optional C++ extensions built for other Pythons or GPUs, and torch logs a deprecation
inside torch itself; evaluate warns when an offline run reuses a cached hub metric. All go
through ``logging``: raising these loggers to ERROR silences them, costs nothing and imports
nothing. Called at start-up by the command line and by every worker.
"""

from __future__ import annotations

import logging

NOISY_LOGGERS = ("torchao", "torch.utils._pytree", "evaluate")


def quiet_library_logs() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
