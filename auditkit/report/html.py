"""The HTML scorecard: one self-contained file that can be mailed, archived or attached to CI.

Every string from the results (ids, model outputs, error messages) is untrusted, so the template
is rendered with autoescaping on and the page forbids all network access through its CSP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditkit.report.table import (
    build_comparison,
    error_line,
    format_mib,
    format_parameters,
    short_hash,
)
from auditkit.results import AuditResult, ErrorInfo, ModelFile, ModelResult

TEMPLATE = "scorecard.html.j2"


@dataclass(frozen=True)
class FileView:
    name: str
    sha256: str
    short: str


@dataclass(frozen=True)
class ModelView:
    """One row of the models table, formatted so the template holds no logic about units."""

    model_id: str
    loaded: bool
    source: str = ""
    resolved: str = ""
    adapter: str = ""
    architecture: str = ""
    parameters: str = ""
    size: str = ""
    dtype: str = ""
    quantization: str = ""
    device: str = ""
    license: str = ""
    load_time: str = ""
    trust_remote_code: bool = False
    files: tuple[FileView, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class ErrorView:
    model_id: str
    probe: str
    type: str
    message: str


@cache
def environment() -> Environment:
    """The one template environment; escaping is on for every template, whatever its name."""
    return Environment(
        loader=PackageLoader("auditkit", "report/templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(result: AuditResult) -> str:
    """Render the scorecard for ``result`` as a standalone HTML5 document."""
    template = environment().get_template(TEMPLATE)
    errors = [_error_view(model_id, probe, info) for model_id, probe, info in result.errors]
    return template.render(
        result=result,
        comparison=build_comparison(result),
        models=[_model_view(model) for model in result.models],
        probes=[(p.id, p.kind, compact_json(p.params)) for p in result.probes],
        errors=errors,
        suite_short=short_hash(result.suite_sha256),
        environment_line=_environment_line(result),
    )


def compact_json(value: object) -> str:
    """Probe parameters on one line, keys sorted so two scorecards diff cleanly."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _environment_line(result: AuditResult) -> str:
    env = result.environment
    gpus = ", ".join(env.gpus) if env.gpus else "none"
    return f"Python {env.python} · {env.platform} · CPU {env.cpu} · GPUs: {gpus}"


def _license(license_id: str | None, source: str | None) -> str:
    """The license with where it was read from, since a suite override weighs differently."""
    if not license_id:
        return "unknown"
    return f"{license_id} ({source})" if source else license_id


def _file_view(file: ModelFile) -> FileView:
    name = file.path.replace("\\", "/").rsplit("/", 1)[-1]
    return FileView(name=name, sha256=file.sha256, short=short_hash(file.sha256))


def _model_view(model: ModelResult) -> ModelView:
    error = error_line(model.error) if model.error is not None else ""
    info = model.info
    if info is None:
        return ModelView(model_id=model.model_id, loaded=False, error=error)
    return ModelView(
        model_id=model.model_id,
        loaded=True,
        source=info.source,
        resolved=info.resolved,
        adapter=info.adapter or "",
        architecture=info.architecture,
        parameters=format_parameters(info.parameters),
        size=format_mib(info.bytes_on_disk),
        dtype=info.dtype,
        quantization=info.quantization or "none",
        device=info.device,
        license=_license(info.license, info.license_source),
        load_time=f"{info.load_seconds:.1f} s",
        trust_remote_code=info.trust_remote_code,
        files=tuple(_file_view(f) for f in info.files),
        error=error,
    )


def _error_view(model_id: str, probe_id: str | None, info: ErrorInfo) -> ErrorView:
    return ErrorView(
        model_id=model_id,
        probe=probe_id if probe_id is not None else "load",
        type=info.type,
        message=info.message,
    )
