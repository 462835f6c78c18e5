"""Run every model × probe of a suite and write the audit's files.

The runner is the only code that knows both models and probes, and it knows them only as suite
entries: what a probe computes is the probe's business, where a model runs is the executor's.
Per model it (1) takes every probe result it can from the cache (``run.plan``), (2) hands the rest
to an executor as one unit of work, (3) turns the messages that come back into results, progress
lines, cache entries and error rows (``run.execute``). A model that fails to load, a probe that
raises and a worker process that dies all become error rows; everything else still runs.
``results.json`` is rewritten (atomically, ``run.write``) after every model, and every finished
probe is cached at once, so a killed run loses at most the probe that was running.

``AuditRun`` only walks those rooms in order; each lives in its own module under ``auditkit.run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.cache import ResultCache
from auditkit.errors import ExitCode
from auditkit.executors import Executor
from auditkit.models.loader import load_model
from auditkit.outputs import ERROR_LOG_FILE, MANIFEST_FILE, RESULTS_FILE, SAMPLES_FILE
from auditkit.probes.base import Probe, probe_for
from auditkit.progress import RunProgress
from auditkit.results import AuditResult, ModelResult
from auditkit.run.assemble import ResultAssembler
from auditkit.run.execute import MessageHandler
from auditkit.run.plan import Planner
from auditkit.run.state import RunState
from auditkit.run.write import AuditWriter
from auditkit.suite import Suite
from auditkit.verdicts import judge_audit, read_samples
from auditkit.worker import seed_everything

__all__ = [
    "ERROR_LOG_FILE",
    "MANIFEST_FILE",
    "RESULTS_FILE",
    "SAMPLES_FILE",
    "AuditRun",
    "exit_code_for",
    "seed_everything",
]


class AuditRun:
    """One execution of a suite into an output folder.

    ``executor`` says where each model's work runs. Without one, everything runs in this
    process, which is what tests and debuggers want; ``auditkit run`` passes the executor the
    suite asks for (``executors.executor_for``: a worker process per model by default).
    ``cache``, when given, serves finished (model × probe) results and stores new ones.
    """

    def __init__(
        self,
        suite: Suite,
        out_dir: Path,
        progress: RunProgress,
        *,
        executor: Executor | None = None,
        cache: ResultCache | None = None,
    ) -> None:
        self.suite = suite
        self.out_dir = out_dir
        self.progress = progress
        self.executor = executor
        self.cache = cache
        self.probes: list[Probe[Any]] = [probe_for(spec) for spec in suite.probes]
        self._run = RunState()
        self._assembler = ResultAssembler(suite, self._run)

    @property
    def model_results(self) -> list[ModelResult]:
        """Results of the models finished so far, in suite order."""
        return self._assembler.model_results()

    def execute(self) -> AuditResult:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        writer = AuditWriter(self.out_dir)

        def save() -> None:
            assembler = self._assembler
            writer.write_partial(assembler.result(), assembler.sample_lines(), self._run.error_log)

        works = Planner(self.suite, self.probes, self.progress, self.cache).plan(self._run)
        if any(state.finished for state in self._run.models.values()):
            save()
        handler = MessageHandler(self.suite, self._run, self.progress, self.cache, save)
        executor = self.executor or self._in_process()
        try:
            while works:
                executor.run(works, handler.handle)
                works = handler.follow_ups()
        finally:
            if self.executor is None:
                executor.close()
        result = judge_audit(
            self._assembler.result(),
            self.suite.gate_defs(),
            self.suite.policy,
            read_samples(self.out_dir / SAMPLES_FILE),
        )
        writer.write_results(result)
        writer.write_manifest(result, self.suite, self.probes)
        return result

    def _in_process(self) -> Executor:
        from auditkit.executors.local import InProcessExecutor

        # ``load_model`` is looked up in this module when called, so a test can substitute it.
        return InProcessExecutor(self.suite, load=lambda spec, device: load_model(spec, device))


def exit_code_for(result: AuditResult) -> ExitCode:
    """3 when any work failed (the audit is incomplete), else 1 when a gate failed, else 0."""
    if result.errors:
        return ExitCode.RUN_FAILED
    return ExitCode.GATE_FAILED if result.gate_failed else ExitCode.OK
