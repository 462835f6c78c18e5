"""The HTML scorecard: one self-contained file that can be mailed, archived or attached to CI.

Every string from the results (ids, model outputs, error messages) is untrusted, so the template
is rendered with autoescaping on and the page forbids all network access through its CSP. The
only script is the sample explorer's filter, shipped with the package and allowed by its hash.
The only links are in-page anchors (``#judge-…``, ``#model-notes``), their ids built from fixed
text and strict slugs, never from raw result strings.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from auditkit.report.confusion import confusion_matrices
from auditkit.report.deployment import FRONT_LEGEND, FRONT_MARK, build_deployment
from auditkit.report.figures import cost_figures, metric_figures, quality_metric
from auditkit.report.gates import build_banner, gate_rows
from auditkit.report.judges import JudgeLink, judge_views, probe_judges
from auditkit.report.licenses import license_card
from auditkit.report.machine import environment_line
from auditkit.report.paired import SIGNIFICANCE, SIGNIFICANT_MARK, agreements
from auditkit.report.samples import MAX_PER_KIND, PREVIEW, select_samples
from auditkit.report.table import (
    NOTE_MARK,
    build_comparison,
    error_line,
    format_mib,
    format_parameters,
    short_hash,
)
from auditkit.results import AuditResult, ErrorInfo, ModelFile, ModelResult

TEMPLATE = "scorecard.html.j2"
SCRIPT = "explorer.js"
BASE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""Nothing may load; styles are inline. A page with the explorer adds its script's hash."""


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
    notes: tuple[str, ...] = ()
    """What a reader must know about how the model ran (e.g. an emulated dtype)."""


@dataclass(frozen=True)
class ProbeView:
    id: str
    kind: str
    params: str
    judges: tuple[JudgeLink, ...] = ()


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


@dataclass(frozen=True)
class Script:
    """The explorer's filter script and the CSP source that allows exactly it."""

    text: Markup
    source: str


@cache
def explorer_script() -> Script:
    text = (files("auditkit.report") / "templates" / SCRIPT).read_text(encoding="utf-8")
    if "</" in text:
        raise ValueError(f"{SCRIPT} must not contain '</': it is inlined in a <script> element")
    return Script(Markup(text), script_source(text))


def script_source(text: str) -> str:
    """The CSP source expression for an inline script: ``'sha256-<base64 of its digest>'``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def render_html(result: AuditResult, samples: Sequence[Mapping[str, Any]] | None = None) -> str:
    """Render the scorecard for ``result`` as a standalone HTML5 document.

    ``samples`` are ``samples.jsonl`` rows; with them, the page gets a sample explorer.
    """
    template = environment().get_template(TEMPLATE)
    errors = [_error_view(model_id, probe, info) for model_id, probe, info in result.errors]
    explorer = select_samples(result, samples) if samples is not None else None
    script = explorer_script() if explorer is not None and explorer.shown else None
    # Built only from constants and a digest, never from results: safe to print unescaped.
    csp = Markup(f"{BASE_CSP}; script-src {script.source}" if script else BASE_CSP)
    quality = quality_metric(result)
    judged = probe_judges(result)
    return template.render(
        result=result,
        csp=csp,
        script=script,
        banner=build_banner(result),
        gates=gate_rows(result),
        comparison=build_comparison(result),
        deployment=build_deployment(result),
        front=(FRONT_MARK, FRONT_LEGEND),
        note_mark=NOTE_MARK,
        significance=(SIGNIFICANT_MARK, SIGNIFICANCE),
        figures=metric_figures(result),
        costs=cost_figures(result),
        quality=f"{quality[0]}: {quality[1].name}" if quality else "",
        agreements=agreements(result),
        licenses=[license_card(report) for report in result.licenses],
        explorer=explorer,
        confusion=confusion_matrices(result, samples) if samples is not None else [],
        limits={"per_kind": MAX_PER_KIND, "preview": PREVIEW},
        models=[_model_view(model) for model in result.models],
        probes=[
            ProbeView(p.id, p.kind, compact_json(p.params), judged.get(p.id, ()))
            for p in result.probes
        ],
        probe_judges=judged,
        judges=judge_views(result),
        errors=errors,
        suite_short=short_hash(result.suite_sha256),
        environment_line=environment_line(result.environment),
    )


def compact_json(value: object) -> str:
    """Probe parameters on one line, keys sorted so two scorecards diff cleanly."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


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
        notes=tuple(info.notes),
    )


def _error_view(model_id: str, probe_id: str | None, info: ErrorInfo) -> ErrorView:
    return ErrorView(
        model_id=model_id,
        probe=probe_id if probe_id is not None else "load",
        type=info.type,
        message=info.message,
    )
