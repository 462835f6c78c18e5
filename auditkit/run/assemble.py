"""Assembling: the ``AuditResult`` and the sample records of the models finished so far.

Called after every model (the partial results a killed run leaves) and once at the end.
"""

from __future__ import annotations

from typing import Any

from auditkit import __version__
from auditkit.environment import describe_environment
from auditkit.probes.base import PROBES, probe_for
from auditkit.results import (
    AuditResult,
    Environment,
    JudgeCard,
    ModelResult,
    ProbeResult,
    ProbeSummary,
)
from auditkit.run.state import ModelState, RunState
from auditkit.suite import Suite
from auditkit.worker import ProbeOutcome, local_gpus


class ResultAssembler:
    """Builds results and sample records from a ``RunState``; reads it, never changes a model's
    state. The machine is described once per run."""

    def __init__(self, suite: Suite, run: RunState) -> None:
        self.suite = suite
        self.run = run
        self._environment: Environment | None = None

    def result(self) -> AuditResult:
        """The audit as far as it has run, before any gate is judged."""
        environment = self._machine()
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
            models=self.model_results(),
            environment=environment,
            judges=_judge_cards(self.suite),
        )

    def model_results(self) -> list[ModelResult]:
        """Results of the models finished so far, in suite order."""
        return [self._model_result(s) for s in self.run.ordered() if s.finished]

    def sample_lines(self) -> list[str]:
        """The ``samples.jsonl`` lines of the probes finished so far, in suite order."""
        lines: list[str] = []
        for state in self.run.ordered():
            if not state.finished or state.load_error is not None:
                continue
            for index in range(len(self.suite.probes)):
                outcome, _ = state.outcomes.get(index, (None, False))
                if outcome is not None:
                    lines.extend(record.to_line() for record in outcome.samples)
        return lines

    def _machine(self) -> Environment:
        """This machine, with the GPUs the workers saw when this process saw none."""
        if self._environment is None:
            self._environment = describe_environment()
        environment = self._environment
        if self.run.worker_gpus is None and not environment.gpus and self._all_cached_on_gpu():
            self.run.worker_gpus = local_gpus()
        if self.run.worker_gpus is not None and not environment.gpus:
            gpus, cuda, capabilities = self.run.worker_gpus
            environment = environment.model_copy(
                update={"gpus": gpus, "cuda": cuda, "gpu_capabilities": capabilities}
            )
        return environment

    def _all_cached_on_gpu(self) -> bool:
        """Whether the machine's GPUs must be asked for here: every model came from the cache
        (no worker reported them) and a real model may use a GPU. Mock-only runs never pay for
        importing torch."""
        states = self.run.models.values()
        return (
            self.suite.device != "cpu"
            and all(state.finished and not state.loaded_here for state in states)
            and any(state.spec.parsed_source.kind != "mock" for state in states)
        )

    def _model_result(self, state: ModelState) -> ModelResult:
        if state.load_error is not None:
            return ModelResult(model_id=state.spec.id, status="error", error=state.load_error)
        probes = [
            self._probe_result(index, *state.outcomes[index])
            for index in range(len(self.suite.probes))
            if index in state.outcomes
        ]
        return ModelResult(model_id=state.spec.id, status="ok", info=state.info, probes=probes)

    def _probe_result(self, index: int, outcome: ProbeOutcome, cached: bool) -> ProbeResult:
        spec = self.suite.probes[index]
        # What the probe's class declares now, cached result or not: a report draws these.
        charts = list(PROBES[spec.kind].charts)
        if outcome.error is not None:
            return ProbeResult(
                probe_id=spec.id,
                kind=spec.kind,
                status="error",
                seconds=outcome.seconds,
                error=outcome.error,
                charts=charts,
            )
        return ProbeResult(
            probe_id=spec.id,
            kind=spec.kind,
            status="ok",
            metrics=outcome.metrics,
            n_samples=len(outcome.samples),
            seconds=outcome.seconds,
            cached=cached,
            charts=charts,
        )


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
