"""Execution: turn the messages an executor relays from its workers into the run's state.

A model that fails to load, a probe that raises and a worker that dies all become error rows;
every finished probe is cached at once. When a worker dies with probes left, ``follow_ups`` hands
them to a fresh worker.
"""

from __future__ import annotations

from collections.abc import Callable

from auditkit.cache import ResultCache
from auditkit.progress import RunProgress
from auditkit.results import ErrorInfo
from auditkit.run.lines import loaded_lines, outcome_line
from auditkit.run.state import ModelState, RunState
from auditkit.suite import Suite
from auditkit.worker import (
    Done,
    Loaded,
    LoadFailed,
    Message,
    ModelWork,
    ProbeFinished,
    ProbeOutcome,
    ProbeStarted,
    Progress,
    Started,
    WorkerDied,
)


class MessageHandler:
    """Applies each (model id, message) to the model's state, the cache and the progress display.

    ``on_finished`` is called each time a model finishes, so the caller can save what is known.
    """

    def __init__(
        self,
        suite: Suite,
        run: RunState,
        progress: RunProgress,
        cache: ResultCache | None,
        on_finished: Callable[[], None],
    ) -> None:
        self.suite = suite
        self.run = run
        self.progress = progress
        self.cache = cache
        self.on_finished = on_finished

    def handle(self, model_id: str, message: Message) -> None:
        """The executor's sink."""
        state = self.run.models[model_id]
        spec = state.spec
        if isinstance(message, Progress):
            if message.event == "total":
                self.progress.set_total(message.steps)
            else:
                self.progress.advance(message.steps)
        elif isinstance(message, Started):
            total = len(self.suite.models)
            verb = "reloading" if state.loaded_here else "loading"  # after its worker died
            self.progress.stage(f"[{state.position}/{total}] {verb} {spec.id} ({spec.source})")
        elif isinstance(message, Loaded):
            self._loaded(state, message)
        elif isinstance(message, LoadFailed):
            self._load_failed(state, message.error, message.trace)
        elif isinstance(message, ProbeStarted):
            state.running = message.index
            probe = self.suite.probes[message.index]
            self.progress.stage(f"{model_id} × {probe.id} ({probe.kind})")
        elif isinstance(message, ProbeFinished):
            self._probe_finished(state, message.index, message.outcome)
        elif isinstance(message, WorkerDied):
            self._worker_died(state, message.reason)
        elif isinstance(message, Done):
            if state.pending:  # cannot happen with auditkit's workers; never loop on it
                self._abandon(state, "not run: the worker ended without running it")
            self._finish(state)

    def follow_ups(self) -> list[ModelWork]:
        """Fresh work for models whose worker died with probes left to run."""
        works = []
        for state in self.run.ordered():
            if not state.finished and state.pending:
                state.running = None
                works.append(ModelWork(state.spec.id, state.pending, state.fingerprint.hints))
            elif not state.finished:
                self._finish(state)
        return works

    def _loaded(self, state: ModelState, message: Loaded) -> None:
        info = message.info
        if message.gpus and self.run.worker_gpus is None:
            self.run.worker_gpus = (message.gpus, message.cuda, message.capabilities)
        if not state.loaded_here:  # a reload after a worker died keeps the first load's info
            state.loaded_here = True
            state.info = info
            if self.cache is not None and state.info_key is not None:
                self.cache.put_info(
                    state.info_key, state.fingerprint.key or "", info.model_dump(mode="json")
                )
        for line in loaded_lines(state.spec.id, info):
            self.progress.note(line)

    def _load_failed(self, state: ModelState, error: ErrorInfo, trace: str) -> None:
        self._log_error(state.spec.id, None, error.message, trace)
        if state.loaded_here:
            # Reloading for the probes a dead worker left: those probes become the error rows.
            self._abandon(state, f"not run: reloading the model failed: {error.message}")
        else:
            state.load_error = error
            state.info = None
            state.pending = ()
        self._finish(state)

    def _probe_finished(self, state: ModelState, index: int, outcome: ProbeOutcome) -> None:
        state.outcomes[index] = (outcome, False)
        state.running = None
        state.pending = tuple(i for i in state.pending if i != index)
        probe = self.suite.probes[index]
        if outcome.error is None:
            key = state.result_key(index)
            if self.cache is not None and key is not None:
                self.cache.put_result(
                    key,
                    model_key=state.fingerprint.key or "",
                    model_label=state.spec.source,
                    probe_kind=probe.kind,
                    value=outcome.cache_value(),
                )
        else:
            self._log_error(state.spec.id, probe.id, outcome.error.message, outcome.trace)
        line = outcome_line(state.spec.id, probe.id, outcome, cached=False)
        if line is not None:
            self.progress.note(line)

    def _worker_died(self, state: ModelState, reason: str) -> None:
        """The worker ended early: the probe it ran is an error row; the probes after it get a
        fresh worker (``follow_ups``); a death while loading is a load error."""
        if state.running is not None:
            index = state.running
            self._probe_finished(state, index, _worker_died(reason))
            if state.pending:
                return  # a fresh worker takes the rest
        elif state.pending:
            self._load_failed(state, ErrorInfo(type="WorkerDied", message=reason, stage="load"), "")
            return
        self._finish(state)  # died after its last probe: nothing is missing

    def _abandon(self, state: ModelState, message: str) -> None:
        for index in state.pending:
            state.outcomes[index] = (_worker_died(message), False)
        state.pending = ()

    def _finish(self, state: ModelState) -> None:
        if not state.finished:
            state.finished = True
            self.on_finished()

    def _log_error(self, model_id: str, probe_id: str | None, message: str, trace: str) -> None:
        where = f"{model_id} × {probe_id}" if probe_id else f"{model_id} (load)"
        self.progress.note(f"error: {where}: {message}")
        self.run.error_log.append(f"== {where}\n{trace or message + chr(10)}")


def _worker_died(message: str) -> ProbeOutcome:
    """The error row of a probe its worker never finished."""
    return ProbeOutcome(0.0, error=ErrorInfo(type="WorkerDied", message=message, stage="probe"))
