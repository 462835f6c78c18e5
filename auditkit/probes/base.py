"""The probe contract and the registry that maps a suite's ``kind`` to a probe class.

A probe is one file in ``auditkit/probes/`` (found by ``auditkit.registry.discover``: no import
list to edit) with one ``@register_probe`` class. Its ``Spec`` (a pydantic model) names the kind,
as ``kind: Literal["<kind>"]``, is validated when the suite is loaded, before any model is, and
becomes part of the suite's JSON Schema. A probe never loads a model and never renders.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

from auditkit.engine.base import EngineT, LanguageModel, engine_as
from auditkit.files import SuitePath as SuitePath  # re-exported for probe plugins
from auditkit.gates import GateSpec
from auditkit.registry import Registry
from auditkit.results import ChartKind, Metric, ModelInfo
from auditkit.tasks import LANGUAGE_TASKS, Task

PROBES: Registry[type[Probe[Any]]] = Registry("probe")
"""Probe kind → probe class (with its ``Spec`` as the parameters model); ``auditkit.probes``
registers the built-in ones when imported, ``AUDITKIT_PLUGINS`` modules add theirs."""


class ProbeSpec(BaseModel):
    """Fields every probe entry in a suite has. Probe kinds subclass it with their parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*$", description="Short unique name of this probe.")
    kind: str
    gates: list[GateSpec] = Field(
        default_factory=list, description="Release gates on this probe's metrics."
    )


SpecT = TypeVar("SpecT", bound=ProbeSpec)


@dataclass
class Sample:
    """One scored item: what went in, what came out, and how it was judged."""

    item_id: str
    input: str
    output: str
    target: str
    scores: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProbeOutput:
    metrics: list[Metric]
    samples: list[Sample]


@dataclass
class ProbeContext:
    """What a probe gets to run: the model's engine, and where to report progress."""

    engine: object
    """The loaded model, behind the interface of its task (``LanguageModel``,
    ``SequenceClassifier``, ``SpeechRecognizer``, ``ImageClassifier``, ``ObjectDetector``)."""
    model_id: str
    seed: int
    set_total: Callable[[int], None] = lambda total: None
    """Announce how many work steps the probe will take (for progress display)."""
    advance: Callable[[int], None] = lambda steps: None
    """Report that ``steps`` more work steps are done."""
    model_info: ModelInfo | None = None
    """What the loader measured about the model (files, load time), where a loader ran."""

    @property
    def model(self) -> LanguageModel:
        """The engine as a language model (``WrongModelTask`` when it is another task's)."""
        return engine_as(self.engine, LanguageModel, "this probe")

    def engine_as(self, interface: type[EngineT], probe_kind: str) -> EngineT:
        """The engine as ``interface``, or ``WrongModelTask`` naming what ``probe_kind`` needs."""
        return engine_as(self.engine, interface, probe_kind)


class Probe(ABC, Generic[SpecT]):
    """Base class of every probe kind."""

    kind: ClassVar[str]
    """The suite's ``kind`` for this probe; ``register_probe`` sets it from ``Spec``."""
    Spec: ClassVar[type[ProbeSpec]]
    tasks: ClassVar[tuple[Task, ...]] = LANGUAGE_TASKS
    """The model tasks (``auditkit.tasks``) this probe runs on; a suite pairing it with a model
    of another task fails validation at the probe's ``kind``."""
    judges: ClassVar[tuple[str, ...]] = ()
    """The judges (``auditkit.judges``) whose verdicts this probe's rates count; their cards go
    into the audit's results beside the probe."""
    charts: ClassVar[tuple[ChartKind, ...]] = ()
    """The charts reports draw of this probe's metrics beyond the by-model bars (see
    ``auditkit.results.ChartKind``); saved with each result, so reports never match kinds."""

    def model_tasks(self) -> tuple[Task, ...]:
        """The model tasks this probe, as the suite configures it, runs on (``tasks``)."""
        return self.tasks

    def judges_used(self) -> list[tuple[str, dict[str, Any]]]:
        """The judges this probe, as the suite configures it, uses: (name, options) each."""
        return [(name, {}) for name in self.judges]

    def __init__(self, spec: SpecT) -> None:
        self.spec = spec

    def data_files(self) -> list[Path]:
        """Files this probe reads (hashed into the manifest)."""
        return []

    def check_data(self) -> None:
        """Read and validate the probe's data; raise ``UserError`` naming ``FILE:LINE`` problems."""

    def known_metrics(self) -> dict[str, bool] | None:
        """Metric names this probe reports (→ whether each has per-item scores for paired
        comparison), or ``None`` when they depend on the run (checked after it)."""
        return None

    def metrics_for_tasks(self, tasks: tuple[Task, ...]) -> dict[str, bool] | None:
        """``known_metrics`` for a suite whose models have ``tasks`` (a probe whose metric names
        depend on the model's task overrides this)."""
        return self.known_metrics()

    @abstractmethod
    def run(self, ctx: ProbeContext) -> ProbeOutput:
        """Run on one model. Exceptions become an error row for this model and probe."""


ProbeT = TypeVar("ProbeT", bound=type[Probe[Any]])


def register_probe(cls: ProbeT) -> ProbeT:
    """Class decorator: make ``cls`` available to suites as the kind its ``Spec`` declares.

    The kind is written once, in the spec (``kind: Literal["my_probe"]``, which the suite's
    union of probe entries is discriminated on); ``cls.kind`` is set from it. A class that also
    sets ``kind`` itself must agree with its spec."""
    kind_field = cls.Spec.model_fields.get("kind")
    annotation = kind_field.annotation if kind_field is not None else None
    values = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise TypeError(f"{cls.__name__}.Spec must declare kind: Literal['<kind>']")
    kind = values[0]
    declared = vars(cls).get("kind")
    if declared is not None and declared != kind:
        raise TypeError(f"{cls.__name__}.kind is {declared!r} but its Spec declares {kind!r}")
    cls.kind = kind
    PROBES.add(kind, cls, params=cls.Spec)
    return cls


def probe_for(spec: ProbeSpec) -> Probe[Any]:
    return PROBES[spec.kind](spec)
