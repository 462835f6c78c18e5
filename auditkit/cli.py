"""The ``auditkit`` command line. Thin: it parses arguments, calls the library, maps exit codes."""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TypeVar

import typer

from auditkit import __version__
from auditkit.errors import ExitCode, UserError
from auditkit.models.spec import DEVICE_PATTERN

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Audit pretrained and fine-tuned models: accuracy, speed, safety and license, "
    "side by side. Exit codes: 0 pass, 1 a gate failed, 2 bad input, 3 a run failed.",
)

if TYPE_CHECKING:
    from auditkit.suite import Suite

F = TypeVar("F", bound=Callable[..., None])


def _reports_user_errors(command: F) -> F:
    """Print a ``UserError`` as its lines on stderr and exit 2; no traceback for bad input."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except UserError as exc:
            for line in exc.problems:
                typer.echo(line, err=True)
            raise typer.Exit(ExitCode.BAD_INPUT) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auditkit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


@app.command()
@_reports_user_errors
def run(
    suite: Path = typer.Argument(..., help="The suite YAML file."),
    out: Optional[Path] = typer.Option(  # noqa: UP045  (typer reads the annotation at runtime)
        None, "--out", "-o", help="Output folder. Default: the suite's report.dir or reports/NAME."
    ),
    device: Optional[str] = typer.Option(  # noqa: UP045
        None, help="Override the suite's device: auto, cpu, cuda, cuda:N."
    ),
) -> None:
    """Run every probe of SUITE on every model and write results, samples and reports."""
    from auditkit.progress import progress_for_stdout
    from auditkit.report import write_reports
    from auditkit.runner import AuditRun, exit_code_for
    from auditkit.suite import load_suite

    loaded = load_suite(suite)
    if device is not None:
        loaded = _with_device(loaded, device)
    out_dir = out or loaded.report_dir()
    progress = progress_for_stdout()
    try:
        result = AuditRun(loaded, out_dir, progress).execute()
    finally:
        progress.close()
    written = write_reports(result, out_dir, loaded.report.formats)
    code = exit_code_for(result)
    for error in result.errors:
        model_id, probe_id, info = error
        typer.echo(
            f"error: {model_id} × {probe_id or 'load'}: {info.type}: {info.message}", err=True
        )
    typer.echo(f"wrote {out_dir} ({', '.join(p.name for p in written)})")
    raise typer.Exit(code)


def _with_device(suite_obj: Suite, device: str) -> Suite:
    if not re.fullmatch(DEVICE_PATTERN, device):
        raise UserError(f"--device: expected auto, cpu, cuda or cuda:N, got {device!r}")
    updated = suite_obj.model_copy(update={"device": device})
    updated._path = suite_obj._path
    return updated


@app.command()
@_reports_user_errors
def validate(suite: Path = typer.Argument(..., help="The suite YAML file.")) -> None:
    """Check SUITE and its data files without loading any model."""
    from auditkit.probes.base import probe_for
    from auditkit.suite import load_suite

    loaded = load_suite(suite)
    files = {path for spec in loaded.probes for path in probe_for(spec).data_files()}
    typer.echo(
        f"{suite}: ok ({len(loaded.models)} models, {len(loaded.probes)} probes, "
        f"{len(files)} data files checked)"
    )


@app.command()
@_reports_user_errors
def report(
    directory: Path = typer.Argument(..., help="A folder holding results.json."),
    formats: str = typer.Option("html,markdown", help="Comma-separated: html, markdown."),
) -> None:
    """Re-render the scorecard and summary from a saved results.json (no model needed)."""
    from pydantic import ValidationError

    from auditkit.report import write_reports
    from auditkit.results import AuditResult
    from auditkit.runner import RESULTS_FILE

    path = directory / RESULTS_FILE
    if not path.is_file():
        raise UserError(f"{path}: file not found (run 'auditkit run' first)")
    try:
        result = AuditResult.read(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: not an auditkit results file: {where}: {first['msg']}") from None
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - {"html", "markdown"})
    if unknown:
        raise UserError(f"--formats: unknown format {', '.join(unknown)}; use html, markdown")
    written = write_reports(result, directory, chosen)
    typer.echo(f"wrote {', '.join(str(p) for p in written)}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of suite files (for editor completion and validation)."""
    from auditkit.suite import json_schema

    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")


def main() -> None:
    app()
