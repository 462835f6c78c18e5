"""Where each model's work runs: this process, a worker process per model, or a Ray cluster.

An executor takes units of work (one model, some of its probes) and hands every message the
workers send to a sink, tagged with the model id, always on the caller's thread. It knows nothing
of results, caches or probes: the runner does. That keeps executors small and interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from auditkit.registry import Registry

if TYPE_CHECKING:
    from auditkit.suite import Suite
    from auditkit.worker import Message, ModelWork

Sink = Callable[[str, "Message"], None]
"""Receives (model id, message)."""


class Executor(Protocol):
    def run(self, works: Sequence[ModelWork], sink: Sink) -> None:
        """Run every unit and return when all are done. Each unit's messages end with ``Done``
        or ``WorkerDied``."""

    def close(self) -> None:
        """Release what the executor holds (a Ray connection, say)."""


EXECUTORS: Registry[Callable[[Suite], Executor]] = Registry("executor")
"""A suite's ``executor`` → the factory building that executor for the suite."""


@EXECUTORS.register("local")
def _local(suite: Suite) -> Executor:
    """``isolation: process``: a worker process per model; ``none``: this process."""
    from auditkit.executors.local import InProcessExecutor, ProcessExecutor

    if suite.isolation == "none":
        return InProcessExecutor(suite)
    return ProcessExecutor(suite)


@EXECUTORS.register("ray")
def _ray(suite: Suite) -> Executor:
    from auditkit.executors.ray import RayExecutor  # imports ray only when a suite asks for it

    return RayExecutor(suite)


def executor_for(suite: Suite) -> Executor:
    """The executor a suite asks for: ``executor: local`` (with ``isolation: process`` or
    ``none``) or ``executor: ray``."""
    return EXECUTORS[suite.executor](suite)
