"""Planning: take every (model × probe) result the cache holds and say what is left to run.

Per model, the planner fingerprints its files, looks up each probe's result and the model's
``ModelInfo``, and returns one unit of work holding the probes still missing; a model whose every
result and info are cached is finished without being loaded.
"""

from __future__ import annotations

from typing import Any

from auditkit.cache import ResultCache
from auditkit.cache_keys import (
    ModelFingerprint,
    digest,
    engine_version,
    fingerprint,
    probe_key,
    result_key,
)
from auditkit.models.spec import ModelSpec
from auditkit.probes.base import Probe
from auditkit.progress import RunProgress
from auditkit.results import ModelInfo
from auditkit.run.lines import outcome_line
from auditkit.run.state import ModelState, RunState
from auditkit.suite import Suite
from auditkit.worker import ModelWork, ProbeOutcome


class Planner:
    """Fills a ``RunState`` with one state per model and returns the work left to run."""

    def __init__(
        self,
        suite: Suite,
        probes: list[Probe[Any]],
        progress: RunProgress,
        cache: ResultCache | None,
    ) -> None:
        self.suite = suite
        self.probes = probes
        self.progress = progress
        self.cache = cache

    def plan(self, run: RunState) -> list[ModelWork]:
        """A state per model in ``run``, and the work left once cached results are taken."""
        probe_keys = [] if self.cache is None else [self._probe_key(p) for p in self.probes]
        works = []
        for position, spec in enumerate(self.suite.models, start=1):
            state = run.models[spec.id] = self._plan_model(position, spec, probe_keys)
            if not state.finished:
                works.append(ModelWork(spec.id, state.pending, state.fingerprint.hints))
        return works

    def _plan_model(
        self, position: int, spec: ModelSpec, probe_keys: list[str | None]
    ) -> ModelState:
        """Take what the cache holds for one model; the state is finished when that is all."""
        total = len(self.suite.models)
        if self.cache is not None and spec.parsed_source.kind != "mock":
            self.progress.stage(f"[{position}/{total}] hashing the files of {spec.id}")
        found = fingerprint(spec) if self.cache is not None else ModelFingerprint(None)
        state = ModelState(spec, position, found, _result_keys(found, probe_keys))
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
            outcome, cached = state.outcomes[index]
            line = outcome_line(spec.id, self.suite.probes[index].id, outcome, cached)
            if line is not None:
                self.progress.note(line)
        if complete:
            state.finished = True
        else:
            state.pending = missing
        return state

    def _probe_key(self, probe: Probe[Any]) -> str | None:
        try:
            return probe_key(probe, self.suite.seed)
        except OSError:  # a data file vanished: the probe will report it when it runs
            return None

    def _from_cache(self, state: ModelState, index: int) -> bool:
        key = state.result_key(index)
        if key is None or self.cache is None:
            return False
        value = self.cache.get_result(key)
        if value is None:
            return False
        probe_id = self.suite.probes[index].id
        try:
            outcome = ProbeOutcome.from_cache(value, model_id=state.spec.id, probe_id=probe_id)
        except (KeyError, TypeError, ValueError):  # damaged or outdated: recompute it
            return False
        state.outcomes[index] = (outcome, True)
        return True


def _result_keys(found: ModelFingerprint, probe_keys: list[str | None]) -> tuple[str | None, ...]:
    """Each probe's result key on a model; ``None`` where the model or probe has no key."""
    model_key = found.key
    return tuple(result_key(model_key, p) if model_key and p else None for p in probe_keys)


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
