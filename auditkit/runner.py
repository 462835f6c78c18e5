"""Run every model × probe of a suite and write the audit's files.

The runner is the only code that knows both models and probes, and it knows them only as suite
entries: what a probe computes is the probe's business, where a model runs is the executor's.
Per model it (1) takes every probe result it can from the cache, (2) hands the rest to an executor
as one unit of work, (3) turns the messages that come back into results, progress lines, cache
entries and error rows. A model that fails to load, a probe that raises and a worker process that
dies all become error rows; everything else still runs. ``results.json`` is rewritten (atomically)
after every model, and every finished probe is cached at once, so a killed run loses at most the
probe that was running.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditkit import __version__
from auditkit.cache import ResultCache
from auditkit.cache_keys import (
    ModelFingerprint,
    digest,
    engine_version,
    fingerprint,
    probe_key,
    result_key,
)
from auditkit.environment import describe_environment
from auditkit.errors import ExitCode
from auditkit.executors import Executor
from auditkit.files import sha256_file, write_atomic
from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec
from auditkit.probes.base import Probe, probe_for
from auditkit.progress import RunProgress
from auditkit.results import (
    AuditResult,
    Environment,
    ErrorInfo,
    JudgeCard,
    Metric,
    ModelInfo,
    ModelResult,
    ProbeResult,
    ProbeSummary,
)
from auditkit.suite import Suite
from auditkit.verdicts import judge_audit, read_samples
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
    local_gpus,
    seed_everything,
)

__all__ = ["AuditRun", "exit_code_for", "seed_everything"]

RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"
MANIFEST_FILE = "manifest.json"
ERROR_LOG_FILE = "errors.log"


@dataclass
class _ModelState:
    """What the runner knows of one model so far."""

    spec: ModelSpec
    position: int
    fingerprint: ModelFingerprint
    info_key: str | None = None
    info: ModelInfo | None = None
    load_error: ErrorInfo | None = None
    outcomes: dict[int, tuple[ProbeOutcome, bool]] = field(default_factory=dict)
    """Probe index → (outcome, taken from the cache)."""
    pending: tuple[int, ...] = ()
    """Probe indexes handed to the current worker and not finished yet."""
    running: int | None = None
    loaded_here: bool = False
    """A worker of this run loaded the model (its info then replaces a cached one)."""
    finished: bool = False


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
        self._probe_keys: list[str | None] = []
        self._states: dict[str, _ModelState] = {}
        self._error_log: list[str] = []
        self._environment: Environment | None = None
        self._worker_gpus: tuple[list[str], str | None, list[str]] | None = None

    @property
    def model_results(self) -> list[ModelResult]:
        """Results of the models finished so far, in suite order."""
        return [self._model_result(s) for s in self._ordered_states() if s.finished]

    def execute(self) -> AuditResult:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        works = self._plan()
        if any(state.finished for state in self._states.values()):
            self._write_results()
        executor = self.executor or self._in_process()
        try:
            while works:
                executor.run(works, self._on_message)
                works = self._follow_ups()
        finally:
            if self.executor is None:
                executor.close()
        result = judge_audit(
            self._result(),
            self.suite.gate_defs(),
            self.suite.policy,
            read_samples(self.out_dir / SAMPLES_FILE),
        )
        result.write(self.out_dir / RESULTS_FILE)
        self._write_manifest(result)
        return result

    def _in_process(self) -> Executor:
        from auditkit.executors.local import InProcessExecutor

        # ``load_model`` is looked up when called, so a test can substitute it.
        return InProcessExecutor(self.suite, load=lambda spec, device: load_model(spec, device))

    # --- planning: what the cache already holds ---------------------------------------------

    def _plan(self) -> list[ModelWork]:
        """A state per model, and the work left once cached results are taken."""
        if self.cache is not None:
            self._probe_keys = [self._probe_key(probe) for probe in self.probes]
        works = []
        for position, spec in enumerate(self.suite.models, start=1):
            work = self._plan_model(position, spec)
            if work is not None:
                works.append(work)
        return works

    def _plan_model(self, position: int, spec: ModelSpec) -> ModelWork | None:
        """Take what the cache holds for one model; ``None`` when that is everything."""
        total = len(self.suite.models)
        if self.cache is not None and spec.parsed_source.kind != "mock":
            self.progress.stage(f"[{position}/{total}] hashing the files of {spec.id}")
        found = fingerprint(spec) if self.cache is not None else ModelFingerprint(None)
        state = self._states[spec.id] = _ModelState(spec, position, found)
        missing = tuple(i for i in range(len(self.probes)) if not self._from_cache(state, i))
        if self.cache is not None and found.key is not None:
            state.info_key = _info_key(spec, found.key)
            state.info = _valid_info(self.cache.get_info(state.info_key))
        complete = not missing and state.info is not None
        if complete:
            self.progress.stage(
                f"[{position}/{total}] {spec.id}: every probe cached, model not loaded"
            )
        elif state.outcomes:
            self.progress.stage(
                f"[{position}/{total}] {spec.id}: {len(state.outcomes)} of "
                f"{len(self.probes)} probes cached"
            )
        for index in sorted(state.outcomes):
            self._note_outcome(state, index)
        if complete:
            state.finished = True
            return None
        state.pending = missing
        return ModelWork(spec.id, missing, found.hints)

    def _probe_key(self, probe: Probe[Any]) -> str | None:
        try:
            return probe_key(probe, self.suite.seed)
        except OSError:  # a data file vanished: the probe will report it when it runs
            return None

    def _from_cache(self, state: _ModelState, index: int) -> bool:
        key = self._result_key(state, index)
        if key is None or self.cache is None:
            return False
        value = self.cache.get_result(key)
        if value is None:
            return False
        try:
            outcome = ProbeOutcome.from_cache(value)
            for metric in outcome.metrics:
                Metric.model_validate(metric)
        except (KeyError, TypeError, ValueError):  # damaged or outdated: recompute it
            return False
        state.outcomes[index] = (outcome, True)
        return True

    def _result_key(self, state: _ModelState, index: int) -> str | None:
        model_key = state.fingerprint.key
        probe = self._probe_keys[index] if index < len(self._probe_keys) else None
        return result_key(model_key, probe) if model_key and probe else None

    # --- messages from the workers -----------------------------------------------------------

    def _on_message(self, model_id: str, message: Message) -> None:
        state = self._states[model_id]
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
            self._load_failed(state, ErrorInfo.model_validate(message.error), message.trace)
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

    def _loaded(self, state: _ModelState, message: Loaded) -> None:
        info = ModelInfo.model_validate(message.info)
        if message.gpus and self._worker_gpus is None:
            self._worker_gpus = (message.gpus, message.cuda, message.capabilities)
        if not state.loaded_here:  # a reload after a worker died keeps the first load's info
            state.loaded_here = True
            state.info = info
            if self.cache is not None and state.info_key is not None:
                self.cache.put_info(state.info_key, state.fingerprint.key or "", message.info)
        runtime = "" if info.runtime == "transformers" else f" ({info.runtime})"
        built = info.runtime_detail.get("export")
        self.progress.note(
            f"loaded {state.spec.id}: {info.architecture}, {info.parameters / 1e6:.1f}M "
            f"parameters, {info.dtype} on {info.device}{runtime} in {info.load_seconds:.1f}s"
            + (f" (ONNX graph {built})" if built else "")
        )
        for note in info.notes:
            self.progress.note(f"  note: {note}")

    def _load_failed(self, state: _ModelState, error: ErrorInfo, trace: str) -> None:
        self._log_error(state.spec.id, None, error.message, trace)
        if state.loaded_here:
            # Reloading for the probes a dead worker left: those probes become the error rows.
            self._abandon(state, f"not run: reloading the model failed: {error.message}")
        else:
            state.load_error = error
            state.info = None
            state.pending = ()
        self._finish(state)

    def _probe_finished(self, state: _ModelState, index: int, outcome: ProbeOutcome) -> None:
        state.outcomes[index] = (outcome, False)
        state.running = None
        state.pending = tuple(i for i in state.pending if i != index)
        if outcome.status == "ok":
            key = self._result_key(state, index)
            if self.cache is not None and key is not None:
                self.cache.put_result(
                    key,
                    state.fingerprint.key or "",
                    state.spec.source,
                    self.suite.probes[index].kind,
                    outcome.cache_value(),
                )
        else:
            error = ErrorInfo.model_validate(outcome.error)
            probe_id = self.suite.probes[index].id
            self._log_error(state.spec.id, probe_id, error.message, outcome.trace)
        self._note_outcome(state, index)

    def _worker_died(self, state: _ModelState, reason: str) -> None:
        """The worker ended early: the probe it ran is an error row; the probes after it get a
        fresh worker (``_follow_ups``); a death while loading is a load error."""
        if state.running is not None:
            index = state.running
            outcome = ProbeOutcome(
                "error", 0.0, error={"type": "WorkerDied", "message": reason, "stage": "probe"}
            )
            self._probe_finished(state, index, outcome)
            if state.pending:
                return  # a fresh worker takes the rest
        elif state.pending:
            self._load_failed(state, ErrorInfo(type="WorkerDied", message=reason, stage="load"), "")
            return
        self._finish(state)  # died after its last probe: nothing is missing

    def _follow_ups(self) -> list[ModelWork]:
        """Fresh work for models whose worker died with probes left to run."""
        works = []
        for state in self._ordered_states():
            if not state.finished and state.pending:
                state.running = None
                works.append(ModelWork(state.spec.id, state.pending, state.fingerprint.hints))
            elif not state.finished:
                self._finish(state)
        return works

    def _abandon(self, state: _ModelState, message: str) -> None:
        for index in state.pending:
            outcome = ProbeOutcome(
                "error", 0.0, error={"type": "WorkerDied", "message": message, "stage": "probe"}
            )
            state.outcomes[index] = (outcome, False)
        state.pending = ()

    def _finish(self, state: _ModelState) -> None:
        if not state.finished:
            state.finished = True
            self._write_results()

    def _note_outcome(self, state: _ModelState, index: int) -> None:
        outcome, cached = state.outcomes[index]
        if outcome.status != "ok":
            return
        headline = ", ".join(
            f"{m['name']}={_headline_value(m)}"
            for m in outcome.metrics[:3]
            if m.get("group") is None
        )
        where = "cached" if cached else f"{outcome.seconds:.1f}s"
        self.progress.note(f"{state.spec.id} × {self.suite.probes[index].id}: {headline} ({where})")

    def _log_error(self, model_id: str, probe_id: str | None, message: str, trace: str) -> None:
        where = f"{model_id} × {probe_id}" if probe_id else f"{model_id} (load)"
        self.progress.note(f"error: {where}: {message}")
        self._error_log.append(f"== {where}\n{trace or message + chr(10)}")

    # --- results ---------------------------------------------------------------------------

    def _ordered_states(self) -> list[_ModelState]:
        return sorted(self._states.values(), key=lambda s: s.position)

    def _model_result(self, state: _ModelState) -> ModelResult:
        if state.load_error is not None:
            return ModelResult(model_id=state.spec.id, status="error", error=state.load_error)
        probes = [
            self._probe_result(index, *state.outcomes[index])
            for index in range(len(self.probes))
            if index in state.outcomes
        ]
        return ModelResult(model_id=state.spec.id, status="ok", info=state.info, probes=probes)

    def _probe_result(self, index: int, outcome: ProbeOutcome, cached: bool) -> ProbeResult:
        spec = self.suite.probes[index]
        if outcome.status != "ok":
            return ProbeResult(
                probe_id=spec.id,
                kind=spec.kind,
                status="error",
                seconds=outcome.seconds,
                error=ErrorInfo.model_validate(outcome.error),
            )
        return ProbeResult(
            probe_id=spec.id,
            kind=spec.kind,
            status="ok",
            metrics=[Metric.model_validate(m) for m in outcome.metrics],
            n_samples=len(outcome.samples),
            seconds=outcome.seconds,
            cached=cached,
        )

    def _sample_lines(self) -> list[str]:
        lines: list[str] = []
        for state in self._ordered_states():
            if not state.finished or state.load_error is not None:
                continue
            for index in range(len(self.probes)):
                outcome, _ = state.outcomes.get(index, (None, False))
                if outcome is None or outcome.status != "ok":
                    continue
                probe_id = self.suite.probes[index].id
                lines.extend(
                    json.dumps(
                        {"model_id": state.spec.id, "probe_id": probe_id, **sample},
                        ensure_ascii=False,
                        default=str,
                    )
                    for sample in outcome.samples
                )
        return lines

    def _result(self) -> AuditResult:
        if self._environment is None:
            self._environment = describe_environment()
        environment = self._environment
        if self._worker_gpus is None and not environment.gpus and self._all_cached_on_gpu():
            self._worker_gpus = local_gpus()
        if self._worker_gpus is not None and not environment.gpus:
            gpus, cuda, capabilities = self._worker_gpus
            environment = environment.model_copy(
                update={"gpus": gpus, "cuda": cuda, "gpu_capabilities": capabilities}
            )
        return AuditResult(
            auditkit_version=__version__,
            suite_name=self.suite.name,
            suite_sha256=self.suite.sha256,
            seed=self.suite.seed,
            baseline=self.suite.baseline,
            intended_use=self.suite.intended_use,
            probes=[
                ProbeSummary(
                    id=spec.id,
                    kind=spec.kind,
                    params=spec.model_dump(mode="json", exclude={"id", "kind"}),
                    judges=[name for name, _ in probe_for(spec).judges_used()],
                )
                for spec in self.suite.probes
            ],
            models=self.model_results,
            environment=environment,
            judges=_judge_cards(self.suite),
        )

    def _all_cached_on_gpu(self) -> bool:
        """Whether the machine's GPUs must be asked for here: every model came from the cache
        (no worker reported them) and a real model may use a GPU. Mock-only runs never pay for
        importing torch."""
        states = self._states.values()
        return (
            self.suite.device != "cpu"
            and all(state.finished and not state.loaded_here for state in states)
            and any(state.spec.parsed_source.kind != "mock" for state in states)
        )

    def _write_results(self) -> AuditResult:
        result = self._result()
        result.write(self.out_dir / RESULTS_FILE)
        write_atomic(
            self.out_dir / SAMPLES_FILE, "".join(line + "\n" for line in self._sample_lines())
        )
        error_log = self.out_dir / ERROR_LOG_FILE
        if self._error_log:
            write_atomic(error_log, "\n".join(self._error_log))
        else:
            error_log.unlink(missing_ok=True)
        return result

    def _write_manifest(self, result: AuditResult) -> None:
        data_files = sorted({path for probe in self.probes for path in probe.data_files()})
        manifest = {
            "manifest_version": 1,
            "auditkit_version": __version__,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "suite": {"path": str(self.suite.path), "sha256": self.suite.sha256},
            "data_files": [
                {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_file(p)}
                for p in data_files
            ],
            "models": {
                m.model_id: [f.model_dump() for f in m.info.files] if m.info else []
                for m in result.models
            },
            "outputs": {
                name: sha256_file(self.out_dir / name)
                for name in (RESULTS_FILE, SAMPLES_FILE)
                if (self.out_dir / name).exists()
            },
            "engine_version": engine_version(),
            "environment": result.environment.model_dump(),
        }
        write_atomic(self.out_dir / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")


def _info_key(spec: ModelSpec, model_key: str) -> str:
    """Key of a stored ``ModelInfo``: unlike results, it also depends on how the suite names the
    model (source string, paths, license override), which the info records."""
    base = spec.parsed_base.path if spec.parsed_base is not None else None
    return digest(
        [
            "model-info",
            model_key,
            engine_version(),
            spec.model_dump(mode="json", exclude={"id"}),
            str(spec.parsed_source.path),
            str(base),
        ]
    )


def _valid_info(value: dict[str, Any] | None) -> ModelInfo | None:
    if value is None:
        return None
    try:
        return ModelInfo.model_validate(value)
    except ValueError:  # damaged or outdated: the model is loaded again
        return None


def _headline_value(metric: dict[str, Any]) -> str:
    """A metric as the scorecard writes it (``58.5%``, ``513.1 MiB``, ``0.551``)."""
    from auditkit.report.table import format_value

    try:
        return format_value(Metric.model_validate(metric))
    except ValueError:
        return "nan"


def exit_code_for(result: AuditResult) -> ExitCode:
    """3 when any work failed (the audit is incomplete), else 1 when a gate failed, else 0."""
    if result.errors:
        return ExitCode.RUN_FAILED
    return ExitCode.GATE_FAILED if result.gate_failed else ExitCode.OK


def _judge_cards(suite: Suite) -> list[JudgeCard]:
    """The cards of the judges the suite's probes use (as each probe configures its judge),
    each measured once per process."""
    used: dict[str, tuple[str, dict[str, Any]]] = {}
    for spec in suite.probes:
        for name, options in probe_for(spec).judges_used():
            used.setdefault(name + repr(sorted(options.items())), (name, options))
    if not used:
        return []
    from auditkit.judges.card import judge_card

    return [judge_card(name, **options).card for name, options in used.values()]
