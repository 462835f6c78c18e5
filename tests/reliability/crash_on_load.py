"""A test plugin that makes chosen models' loading crash inside the worker process.

``AUDITKIT_TEST_CRASH_LOAD=model-id:segv,other-id:kill`` wraps auditkit's model loader (the
worker looks it up when it loads): a listed model's load ends its process with a segmentation
fault or a SIGKILL, as a native crash or an out-of-memory kill during loading would.
"""

from __future__ import annotations

import ctypes
import os
import signal
from typing import Any

from auditkit.models import loader

_original = loader.load_model
_crashes = dict(
    entry.split(":", 1)
    for entry in os.environ.get("AUDITKIT_TEST_CRASH_LOAD", "").split(",")
    if ":" in entry
)


def _crashing_load(spec: Any, device: str) -> Any:
    how = _crashes.get(spec.id)
    if how == "segv":
        ctypes.string_at(0)
    elif how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return _original(spec, device)


loader.load_model = _crashing_load  # type: ignore[assignment]
