"""Load a suite's candidate model into a ``LoadedModel``: engine + measured ``ModelInfo``.

The build of each (task, runtime) pair is registered in ``BUILDERS`` by one module of
``auditkit/models/families/`` (discovered, not listed): a new model family or runtime is one new
module there. Heavy imports (torch, transformers, peft…) happen in those modules, when a model is
loaded, never at start-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from auditkit.engine.mock import MockModel
from auditkit.errors import ModelLoadError
from auditkit.models.loaded import LoadedModel, resolve_device
from auditkit.models.spec import ModelSpec
from auditkit.registry import Registry
from auditkit.results import ModelInfo

Builder = Callable[[ModelSpec, str, float], LoadedModel]
"""``build(spec, device, started)``: load ``spec`` on the resolved ``device``; ``started`` is the
``time.perf_counter()`` reading when loading began (for ``ModelInfo.load_seconds``)."""

SpecCheck = Callable[[ModelSpec], "str | None"]
"""A runtime's own rule for a suite's model entry: the problem (one line), or ``None``."""
MachineCheck = Callable[[ModelSpec, str], "tuple[str, str] | None"]
"""Whether this machine can run the entry on the suite's device: (field, problem) or ``None``."""


@dataclass(frozen=True)
class Build:
    """How one (task, runtime) pair is loaded, and what a suite entry for it must satisfy."""

    load: Builder
    check: SpecCheck | None = None
    """Checked when the suite is validated (exit 2, at the model's line)."""
    machine_check: MachineCheck | None = None
    """Checked at validation for the local executor (a missing library or provider)."""


BUILDERS: Registry[Build] = Registry("model build", home="auditkit.models.families")
"""``"<task> on <runtime>"`` → how such a model is loaded and checked."""

__all__ = [
    "BUILDERS",
    "Build",
    "LoadedModel",
    "build_for",
    "builder_name",
    "load_model",
    "register_builder",
]


def builder_name(task: str, runtime: str) -> str:
    return f"{task} on {runtime}"


def register_builder(
    task: str,
    runtime: str,
    *,
    check: SpecCheck | None = None,
    machine_check: MachineCheck | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator: the decorated function loads models of ``task`` on ``runtime``; ``check`` and
    ``machine_check`` are that runtime's validation rules. A new runtime is one module in
    ``auditkit/models/families/`` that registers its builds this way."""

    def decorate(load: Builder) -> Builder:
        BUILDERS.add(builder_name(task, runtime), Build(load, check, machine_check))
        return load

    return decorate


def build_for(task: str, runtime: str) -> Build | None:
    """The registered build of ``task`` on ``runtime``; ``None`` when there is none."""
    name = builder_name(task, runtime)
    return BUILDERS.get(name)


def runtimes_for(task: str) -> list[str]:
    """The runtimes some module registered a build of ``task`` for."""
    prefix = f"{task} on "
    return [name.removeprefix(prefix) for name in BUILDERS if name.startswith(prefix)]


def load_model(spec: ModelSpec, device: str) -> LoadedModel:
    """Load ``spec`` on ``device``; raises ``ModelLoadError`` with a one-line reason."""
    started = time.perf_counter()
    source = spec.parsed_source
    if source.kind == "mock":
        engine = MockModel(behaviour=source.target)
        info = ModelInfo(
            source=spec.source,
            resolved=source.target,
            architecture="mock",
            parameters=0,
            bytes_on_disk=0,
            license=spec.license,
            license_source="suite" if spec.license else None,
            dtype="none",
            device="cpu",
            load_seconds=time.perf_counter() - started,
        )
        return LoadedModel(spec, engine, info)
    build = build_for(spec.model_task, spec.runtime)
    if build is None:
        raise ModelLoadError(f"auditkit cannot load {spec.model_task} models on {spec.runtime}")
    try:
        return build.load(spec, resolve_device(device), started)
    except ModelLoadError:
        raise
    except Exception as exc:  # any failure inside transformers/peft/torch is a load error
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{type(exc).__name__}: {message}") from exc
