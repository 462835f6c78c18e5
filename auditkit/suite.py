"""The suite: a declarative YAML description of an audit, validated before any model loads.

Problems are reported one line each, as ``FILE:LINE:COL: location: message``, all those of a
stage at once: first the YAML and the fields, then cross-references (ids, baseline), then the
probes' data files (each stage needs the one before it to be sound).
"""

from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, create_model
from pydantic_core import ErrorDetails

from auditkit.errors import UserError
from auditkit.executors.settings import ExecutorKind, Isolation, RaySpec
from auditkit.files import sha256_file
from auditkit.gates import PolicySpec
from auditkit.models.spec import DEVICE_PATTERN, ModelSpec
from auditkit.probes.base import PROBES, ProbeSpec, probe_for
from auditkit.tasks import Task
from auditkit.verdicts import GateDef
from auditkit.yaml_positions import Location, Positions, load_yaml, position_of

SUITE_SCHEMA_VERSION = 1
ReportFormat = Literal["html", "markdown", "junit"]


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path | None = Field(
        None,
        description="Output folder, relative to the suite file. Default: reports/<suite name> "
        "under the working directory.",
    )
    formats: tuple[ReportFormat, ...] = Field(
        ("html", "markdown"),
        description="Rendered reports; results.json, samples.jsonl, manifest.json and junit.xml "
        "are always written.",
    )


class Suite(BaseModel):
    """A suite file: the candidate models, the probes to run on each, and report settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = Field(description="Version of the suite format; 1.")
    name: str = Field(pattern=r"^[A-Za-z0-9][\w.-]*$", description="Names the report folder.")
    description: str = ""
    intended_use: Literal["commercial", "research", "internal"] = Field(
        "research", description="How the chosen model will be used (input to the license policy)."
    )
    seed: int = Field(1234, description="Seed for sampling and bootstrap intervals.")
    device: str = Field(
        "auto",
        pattern=DEVICE_PATTERN,
        description="auto (CUDA when available), cpu, cuda or cuda:N.",
    )
    models: list[ModelSpec] = Field(min_length=1)
    baseline: str | None = Field(None, description="Id of the model the others are compared to.")
    probes: list[ProbeSpec] = Field(min_length=1)
    report: ReportSpec = ReportSpec()
    executor: ExecutorKind = Field(
        "local",
        description="local: models one after the other on this machine; ray: one Ray task per "
        "model, on the cluster in 'ray' (or a local Ray instance).",
    )
    ray: RaySpec = RaySpec()
    isolation: Isolation = Field(
        "process",
        description="process: each model in its own worker process (a crash or out-of-memory "
        "kill is an error row for that model only); none: in the auditkit process (debugging).",
    )
    policy: PolicySpec = PolicySpec()

    _path: Path = PrivateAttr(Path("suite.yaml"))
    _gate_lines: dict[tuple[int, int], int] = PrivateAttr(default_factory=dict)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def sha256(self) -> str:
        """sha256 of the suite file's bytes, as ``sha256sum`` prints it."""
        return sha256_file(self._path)

    def report_dir(self, cwd: Path | None = None) -> Path:
        if self.report.dir is not None:
            return (
                self.report.dir
                if self.report.dir.is_absolute()
                else self.path.parent / self.report.dir
            )
        return (cwd or Path.cwd()) / "reports" / self.name

    def model(self, model_id: str) -> ModelSpec:
        return next(m for m in self.models if m.id == model_id)

    def gate_defs(self) -> list[GateDef]:
        """Every probe's gates, with the suite line each was written on."""
        return [
            GateDef(probe.id, gate, self._gate_lines.get((p, g)))
            for p, probe in enumerate(self.probes)
            for g, gate in enumerate(probe.gates)
        ]


@functools.cache
def suite_model() -> type[Suite]:
    """The ``Suite`` class with ``probes`` typed as the union of every registered probe's spec.

    Built once, and again after a probe kind is registered or removed (a plugin imported)."""
    specs = tuple(registered.params for registered in PROBES.entries())
    entry = Annotated[Union[specs], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
    model: type[Suite] = create_model(
        "Suite",
        __base__=Suite,
        __doc__=Suite.__doc__,
        probes=(list[entry], Field(min_length=1)),
    )
    return model


PROBES.on_change(suite_model.cache_clear)


def json_schema() -> dict[str, Any]:
    schema = suite_model().model_json_schema()
    schema["title"] = "auditkit suite"
    return schema


def load_suite(path: Path, *, check_data: bool = True) -> Suite:
    """Read, validate and (by default) check the data files of the suite at ``path``.

    Raises ``UserError`` listing every problem found.
    """
    data, positions = load_yaml(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1:1: a suite is a YAML mapping with schema_version, name, ...")
    if data.get("schema_version", SUITE_SCHEMA_VERSION) != SUITE_SCHEMA_VERSION:
        where = _where(path, ("schema_version",), positions)
        raise UserError(
            f"{where}: schema_version: this auditkit reads suite schema version "
            f"{SUITE_SCHEMA_VERSION}, not {data['schema_version']!r}"
        )
    try:
        suite = suite_model().model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        lines = [_format_error(path, error, data, positions) for error in exc.errors()]
        raise UserError(sorted(lines, key=_line_number)) from None
    suite._path = path
    suite._gate_lines = {
        (p, g): positions[("probes", p, "gates", g)][0]
        for p, probe in enumerate(suite.probes)
        for g in range(len(probe.gates))
        if ("probes", p, "gates", g) in positions
    }
    problems = sorted(
        (
            f"{_where(path, loc, positions)}: {_dotted(loc)}: {message}"
            for loc, message in _cross_field_problems(suite)
        ),
        key=_line_number,
    )
    if problems:
        raise UserError(problems)
    if check_data:
        for spec in suite.probes:
            try:
                probe_for(spec).check_data()
            except UserError as exc:
                problems.extend(exc.problems)
        if problems:
            raise UserError(problems)
    return suite


def _cross_field_problems(suite: Suite) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    ids = {"models": [m.id for m in suite.models], "probes": [p.id for p in suite.probes]}
    for field, field_ids in ids.items():
        seen: set[str] = set()
        for index, entry_id in enumerate(field_ids):
            if entry_id in seen:
                problems.append(((field, index, "id"), f"duplicate id {entry_id!r}"))
            seen.add(entry_id)
    model_ids = [m.id for m in suite.models]
    if suite.baseline is not None and suite.baseline not in model_ids:
        problems.append(
            (
                ("baseline",),
                f"no model has id {suite.baseline!r}{_suggest(suite.baseline, model_ids)}",
            )
        )
    for p, spec in enumerate(suite.probes):
        tasks = tuple(dict.fromkeys(model.model_task for model in suite.models))
        problems += _gate_problems(p, spec, suite.baseline, tasks)
        problems += _task_problems(p, spec, suite.models)
    if suite.executor == "local":  # Ray workers may have hardware this machine lacks
        from auditkit.models.support import variant_problem

        for m, model in enumerate(suite.models):
            found = variant_problem(model, suite.device)
            if found:
                problems.append((("models", m, found[0]), found[1]))
    return problems


def _task_problems(
    index: int, spec: ProbeSpec, models: list[ModelSpec]
) -> list[tuple[Location, str]]:
    """A probe paired with a model of a task it cannot run on: one problem per such model."""
    accepted = probe_for(spec).model_tasks()
    return [
        (
            ("probes", index, "kind"),
            f"{spec.kind} runs on {' or '.join(accepted)} models; model {model.id!r} is "
            f"{model.model_task} (give this family its own suite)",
        )
        for model in models
        if model.model_task not in accepted
    ]


def _gate_problems(
    index: int, spec: ProbeSpec, baseline: str | None, tasks: tuple[Task, ...]
) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    known = probe_for(spec).metrics_for_tasks(tasks)
    for g, gate in enumerate(spec.gates):
        where: Location = ("probes", index, "gates", g)
        if known is not None and gate.metric not in known:
            problems.append(
                (
                    (*where, "metric"),
                    f"{spec.kind} reports no metric {gate.metric!r}"
                    f"{_suggest(gate.metric, list(known))}; it reports {', '.join(known)}",
                )
            )
        elif gate.relative and known is not None and not known[gate.metric]:
            problems.append(
                (
                    (*where, gate.rule),
                    f"{gate.metric!r} has no per-item scores, so it cannot be compared item by "
                    "item with the baseline; use min or max",
                )
            )
        if gate.relative and baseline is None:
            problems.append(
                ((*where, gate.rule), f"{gate.rule} compares with the baseline: set 'baseline'")
            )
    return problems


def _format_error(path: Path, error: ErrorDetails, data: Any, positions: Positions) -> str:
    loc = _clean_loc(error["loc"], data)
    message = error["msg"].removeprefix("Value error, ")
    kind = error["type"]
    if kind == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag", ""))
        loc = (*loc, "kind")
        message = PROBES.unknown(tag)
    elif kind == "union_tag_not_found":
        loc = (*loc, "kind")
        message = f"missing 'kind': one of {', '.join(sorted(PROBES))}"
    elif kind == "extra_forbidden":
        known = _known_fields(loc[:-1], data)
        message = f"unknown field {loc[-1]!r}{_suggest(str(loc[-1]), known)}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "literal_error":
        message += _suggest(str(error.get("input")), re.findall(r"'([^']*)'", message))
    return f"{_where(path, loc, positions)}: {_dotted(loc)}: {message}"


def _clean_loc(loc: tuple[str | int, ...], data: Any) -> Location:
    """Drop the discriminator tag pydantic inserts after ``probes[i]`` in union errors."""
    if len(loc) >= 3 and loc[0] == "probes" and isinstance(loc[1], int) and loc[2] in PROBES:
        return (*loc[:2], *loc[3:])
    return tuple(loc)


def _known_fields(loc: Location, data: Any) -> list[str]:
    if loc == ():
        return list(Suite.model_fields)
    if loc[0] == "models" and len(loc) == 2:
        return list(ModelSpec.model_fields)
    if loc[0] == "report" and len(loc) == 1:
        return list(ReportSpec.model_fields)
    if loc[0] == "probes" and len(loc) == 2 and isinstance(loc[1], int):
        try:
            kind = data["probes"][loc[1]]["kind"]
            return list(PROBES[kind].Spec.model_fields)
        except (KeyError, IndexError, TypeError):
            return []
    return []


def _line_number(problem: str) -> int:
    found = re.match(r"^.*?:(\d+):\d+: ", problem)
    return int(found.group(1)) if found else 0


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _where(path: Path, loc: Location, positions: Positions) -> str:
    found = position_of(loc, positions)
    return f"{path}:{found[0]}:{found[1]}" if found else str(path)


def _dotted(loc: Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "suite"
