"""The scorer contract, the spec a suite writes for one, and the registry of scorers.

A scorer turns texts into one number each in [0, 1] (a toxicity probability, an abstention flag,
a sentiment). Probes name one in their parameters, either as a bare name or as a mapping with the
options that scorer takes::

    scorer: profanity-check
    scorer: {name: detoxify:original, checkpoint: ./tox.ckpt, huggingface_config_path: ./bert}

Each scorer registers itself in its own module, with the model of its options (a subclass of
``ScorerSpec``)::

    class MySpec(ScorerSpec):
        threshold: float = 0.5

    @register_scorer("my-scorer", params=MySpec)
    class MyScorer(Scorer):
        def __init__(self, spec: MySpec) -> None: ...

This module imports none of them: ``SCORERS`` finds the modules of ``auditkit.scorers`` on its
first lookup (plugins register theirs when imported).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainValidator,
    SerializeAsAny,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from auditkit.registry import Registry


class Scorer(ABC):
    """Maps texts to scores in [0, 1]; ``name`` and ``version`` say exactly what scored them."""

    name: str
    version: str

    @abstractmethod
    def score(self, texts: Sequence[str]) -> list[float]:
        """One score in [0, 1] per text, in order."""


SCORERS: Registry[Callable[[Any], Scorer]] = Registry("scorer", home="auditkit.scorers")
"""Scorer name → factory building the scorer from its spec (an instance of the ``ScorerSpec``
subclass registered with it as ``params``)."""


class ScorerSpec(BaseModel):
    """Which scorer to use (``name``) and its options: each scorer's own subclass of this model.

    ``ScorerSpec(name=..., **options)`` builds the model registered for ``name``; a scorer with no
    options is registered with ``ScorerSpec`` itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="A registered scorer.")

    def __new__(cls, /, **data: Any) -> ScorerSpec:
        name = data.get("name")
        if cls is ScorerSpec and isinstance(name, str) and name in SCORERS:
            cls = _params_of(name)
        return super().__new__(cls)

    @field_validator("name")
    @classmethod
    def _registered_for_this_model(cls, name: str) -> str:
        params = _params_of(name)  # an unknown name raises UnknownNameError, a ValueError
        if params is not cls:
            raise ValueError(f"scorer {name!r} takes {params.__name__}, not {cls.__name__}")
        return name


class ModelScorerSpec(ScorerSpec):
    """Options of every scorer that runs a model of its own."""

    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?|mps)$")
    batch_size: int = Field(32, ge=1)


def _params_of(name: str) -> type[ScorerSpec]:
    params = SCORERS.params(name)
    return params if params is not None and issubclass(params, ScorerSpec) else ScorerSpec


ScorerFactoryT = TypeVar("ScorerFactoryT", bound=Callable[..., Scorer])


def register_scorer(
    name: str, *, params: type[ScorerSpec] = ScorerSpec
) -> Callable[[ScorerFactoryT], ScorerFactoryT]:
    """Decorator: make ``factory`` (a ``Scorer`` class or a function; called with the validated
    ``params`` instance) available to suites as ``scorer: <name>``."""

    def decorate(factory: ScorerFactoryT) -> ScorerFactoryT:
        SCORERS.add(name, factory, params=params)
        return factory

    return decorate


def _validate_scorer(value: Any, info: ValidationInfo) -> ScorerSpec:
    """A suite's ``scorer`` (a name, or a mapping with ``name`` and options) as its scorer's
    spec."""
    if isinstance(value, ScorerSpec):
        return value
    data = {"name": value} if isinstance(value, str) else value
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or name not in SCORERS:
        # The name's own error (missing, not a string, unknown), without its options'.
        if isinstance(data, dict):
            data = {key: data[key] for key in ("name",) if key in data}
        return ScorerSpec.model_validate(data, context=info.context)
    params = _params_of(name)
    assert isinstance(data, dict)
    _refuse_misplaced_options(data, params, info.context)
    return params.model_validate(data, context=info.context)


def _refuse_misplaced_options(data: dict[str, Any], params: type[ScorerSpec], context: Any) -> None:
    """Refuse an option of another scorer: checked as that scorer would check it (a file that
    does not exist is reported as such), then named as belonging elsewhere."""
    owners = _option_owners()
    for option, value in data.items():
        if option in params.model_fields or option not in owners:
            continue  # the scorer's own option, or one of no scorer's (pydantic refuses it)
        _option_model(_params_of(owners[option][0]), option).model_validate(
            {option: value}, context=context
        )
        raise ValueError(f"{option!r} applies to {_scorers_text(owners[option])} only")


def _option_owners() -> dict[str, list[str]]:
    """Option → the names of the scorers that take it."""
    owners: dict[str, list[str]] = {}
    for registered in SCORERS.entries():
        for option in _params_of(registered.name).model_fields:
            if option != "name":
                owners.setdefault(option, []).append(registered.name)
    return owners


@functools.cache
def _option_model(params: type[ScorerSpec], option: str) -> type[BaseModel]:
    """A model of ``params``'s field ``option`` alone (to check a misplaced option's value)."""
    field = params.model_fields[option]
    return create_model(params.__name__, **{option: (field.annotation, field)})  # type: ignore[call-overload]


def _scorers_text(names: list[str]) -> str:
    if len(names) == 1:
        return f"the {names[0]!r} scorer"
    return ", ".join(sorted({name.split(":", 1)[0] for name in names})) + " scorers"


class _ScorerJsonSchema:
    """The JSON Schema of a scorer field: a registered name, or a mapping with one scorer's
    ``name`` and options. Built when the schema is, so that it lists every registered scorer."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        names: dict[type[ScorerSpec], list[str]] = {}
        for registered in SCORERS.entries():
            names.setdefault(_params_of(registered.name), []).append(registered.name)
        mappings = []
        for params, its_names in sorted(names.items(), key=lambda item: min(item[1])):
            schema = handler(params.__pydantic_core_schema__)
            resolved = handler.resolve_ref_schema(schema)
            resolved["properties"]["name"]["enum"] = sorted(its_names)
            if params is ScorerSpec:
                resolved["description"] = "A scorer that takes no options."
            mappings.append(schema)
        return {"anyOf": [{"type": "string", "enum": sorted(SCORERS)}, *mappings]}


ScorerField = Annotated[
    SerializeAsAny[ScorerSpec], PlainValidator(_validate_scorer), _ScorerJsonSchema()
]
"""A probe parameter holding a scorer: a bare name or a mapping with ``name`` and options."""


@functools.lru_cache(maxsize=4)
def build_scorer(spec: ScorerSpec) -> Scorer:
    """Build the scorer ``spec`` names, loading its model when it has one.

    Built scorers are kept (per spec), so the probes of every candidate share one loaded scorer.
    """
    return SCORERS[spec.name](spec)
