"""Executors on this machine: one worker process per model (the default), or this process.

Models run one after the other: on one machine they would compete for the same GPU memory, and
a model sharded over all GPUs (``device_map: auto``) needs them all.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from auditkit.executors import Sink
from auditkit.worker import (
    Done,
    Emit,
    Loader,
    Message,
    ModelWork,
    WorkerDied,
    process_main,
    request_for,
    run_model,
)

if TYPE_CHECKING:
    from auditkit.suite import Suite

_JOIN_SECONDS = 60.0
"""How long a worker that said ``Done`` may take to exit before it is killed."""


class InProcessExecutor:
    """``isolation: none``: everything in this process. For tests and debuggers: monkeypatches
    and breakpoints reach the probes, but a crash in one model ends the whole audit."""

    def __init__(self, suite: Suite, load: Loader | None = None) -> None:
        self.suite = suite
        self.load = load

    def run(self, works: Sequence[ModelWork], sink: Sink) -> None:
        for work in works:

            def emit(message: Message, model_id: str = work.model_id) -> None:
                sink(model_id, message)

            run_model(self.suite, work, emit, device=self.suite.device, load=self.load)
            emit(Done())

    def close(self) -> None:
        pass


class ProcessExecutor:
    """``isolation: process``: each model in a fresh spawned process.

    A segfault, an out-of-memory kill or a hang-up of native code ends that process only; the
    runner records it as an error row. The process exit frees all GPU memory the model held,
    which ``torch.cuda.empty_cache`` alone does not guarantee. Spawn, not fork: a forked child
    of a process that touched CUDA or holds threads can deadlock.
    """

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self._context = multiprocessing.get_context("spawn")

    def run(self, works: Sequence[ModelWork], sink: Sink) -> None:
        for work in works:

            def emit(message: Message, model_id: str = work.model_id) -> None:
                sink(model_id, message)

            self._run_one(work, emit)

    def close(self) -> None:
        pass

    def _run_one(self, work: ModelWork, emit: Emit) -> None:
        request = request_for(self.suite, work, self.suite.device)
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=process_main, args=(request, sender), name=f"auditkit-{work.model_id}"
        )
        process.start()
        sender.close()  # the child holds the only writer: its death is an end of file here
        finished = False
        try:
            finished = _relay(receiver, process.sentinel, emit)
        finally:
            receiver.close()
            if not finished:
                process.kill()  # interrupted, or the worker is dying already
            process.join(_JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        if not finished:
            emit(WorkerDied(describe_exit(process.exitcode)))


def _relay(receiver: multiprocessing.connection.Connection, sentinel: int, emit: Emit) -> bool:
    """Pass the worker's messages on until ``Done`` (→ True) or its death (→ False).

    Waits on the process too, not only the pipe: a grandchild process may hold the pipe open
    after the worker died.
    """
    while True:
        ready = multiprocessing.connection.wait([receiver, sentinel])
        if receiver not in ready and not receiver.poll(0):
            return False  # the worker ended, and everything it sent before has been passed on
        try:
            message = receiver.recv()
        except EOFError:
            return False
        emit(message)
        if isinstance(message, Done):
            return True


def describe_exit(exitcode: int | None) -> str:
    """Why a worker process ended, in words."""
    if exitcode is None:
        return "the worker process did not end"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        reason = {
            "SIGKILL": " (out of memory? the kernel's OOM killer sends SIGKILL)",
            "SIGSEGV": " (a segmentation fault in native code)",
            "SIGABRT": " (native code aborted)",
            "SIGBUS": " (a bus error in native code)",
        }.get(name, "")
        return f"the worker process was killed by {name}{reason}"
    return f"the worker process exited with code {exitcode} before finishing"
