"""The ``auditkit`` command line. Thin: it parses arguments, calls the library, maps exit codes."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TypeVar

import typer

from auditkit import __version__
from auditkit.errors import ExitCode, UserError
from auditkit.models.spec import DEVICE_PATTERN
from auditkit.outputs import RESULTS_FILE, SAMPLES_FILE

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Audit pretrained and fine-tuned models: accuracy, speed, safety and license, "
    "side by side. Exit codes: 0 pass, 1 a gate failed, 2 bad input, 3 a run failed.",
)

if TYPE_CHECKING:
    from auditkit.cache import ResultCache
    from auditkit.results import AuditResult
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
    from auditkit.library_logs import quiet_library_logs
    from auditkit.plugins import load_plugins

    quiet_library_logs()
    try:
        load_plugins()  # probe kinds from AUDITKIT_PLUGINS=module,module
    except UserError as exc:
        typer.echo(exc.problems[0], err=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None


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
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Compute everything; neither read nor write the result cache."
    ),
    cache_dir: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--cache-dir", help="Result cache folder. Default: .auditkit-cache beside the output."
    ),
) -> None:
    """Run every probe of SUITE on every model and write results, samples and reports."""
    from auditkit.cache import default_cache_dir, open_cache
    from auditkit.executors import executor_for
    from auditkit.progress import progress_for_stdout
    from auditkit.runner import AuditRun
    from auditkit.suite import load_suite

    loaded = load_suite(suite)
    if device is not None:
        loaded = _with_device(loaded, device)
    # The progress line says what runs; libraries' own bars (GGUF conversion, lm-eval) would
    # interleave with it. Workers inherit this; a user who sets it keeps their choice.
    os.environ.setdefault("TQDM_DISABLE", "1")
    out_dir = out or loaded.report_dir()
    cache = None if no_cache else open_cache(cache_dir or default_cache_dir(out_dir))
    executor = executor_for(loaded)
    progress = progress_for_stdout()
    try:
        result = AuditRun(loaded, out_dir, progress, executor=executor, cache=cache).execute()
    finally:
        progress.close()
        executor.close()
        if cache is not None:
            cache.close()
    raise typer.Exit(_conclude(result, out_dir, loaded.report.formats, loaded.path))


def _conclude(
    result: AuditResult, out_dir: Path, formats: Sequence[str], suite_path: Path | None
) -> ExitCode:
    """Write the reports, print errors, verdicts and CI annotations; return the exit code."""
    from auditkit.ci_annotations import gate_annotations
    from auditkit.report import write_reports
    from auditkit.runner import exit_code_for

    written = write_reports(result, out_dir, list(dict.fromkeys([*formats, "junit"])))
    for model_id, probe_id, info in result.errors:
        typer.echo(
            f"error: {model_id} × {probe_id or 'load'}: {info.type}: {info.message}", err=True
        )
    for verdict in result.verdicts:
        if verdict.status != "pass":
            typer.echo(
                f"gate {verdict.status}: {verdict.model_id}: {verdict.rule} {verdict.message}"
            )
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for line in gate_annotations(result, suite_path):
            typer.echo(line)
    passed = sum(v.status == "pass" for v in result.verdicts)
    if result.verdicts:
        typer.echo(f"gates: {passed}/{len(result.verdicts)} pass")
    typer.echo(f"wrote {out_dir} ({', '.join(p.name for p in written)})")
    return exit_code_for(result)


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
    directory: Path = typer.Argument(..., help=f"A folder holding {RESULTS_FILE}."),
    formats: str = typer.Option(
        "html,markdown,junit", help="Comma-separated: html, markdown, junit."
    ),
) -> None:
    """Re-render the scorecard and summary from a saved results.json (no model needed)."""
    from auditkit.report import FORMATS, write_reports

    result = _read_results(directory)
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(FORMATS))
    if unknown:
        raise UserError(f"--formats: unknown format {', '.join(unknown)}; use {', '.join(FORMATS)}")
    written = write_reports(result, directory, chosen)
    typer.echo(f"wrote {', '.join(str(p) for p in written)}")


@app.command()
@_reports_user_errors
def gate(
    directory: Path = typer.Argument(
        ..., help=f"A folder holding {RESULTS_FILE} and {SAMPLES_FILE}."
    ),
    suite: Optional[Path] = typer.Option(  # noqa: UP045
        None, help="Judge with this suite's gates, baseline and policy instead of the saved ones."
    ),
) -> None:
    """Re-judge a saved audit (no model needed) and exit 0 pass / 1 gate failed / 3 run error."""
    from auditkit.gates import PolicySpec
    from auditkit.suite import load_suite
    from auditkit.verdicts import gates_from_result, judge_audit, read_samples

    result = _read_results(directory)
    suite_path: Path | None = None
    if suite is not None:
        loaded = load_suite(suite, check_data=False)
        suite_path = loaded.path
        result = result.model_copy(
            update={"baseline": loaded.baseline, "intended_use": loaded.intended_use}
        )
        gates, policy = loaded.gate_defs(), loaded.policy
    else:
        gates = gates_from_result(result)
        policy = PolicySpec(
            inconclusive="fail" if result.inconclusive_fails else "pass",
            license_gate=result.license_gate,
        )
    result = judge_audit(result, gates, policy, read_samples(directory / SAMPLES_FILE))
    result.write(directory / RESULTS_FILE)
    raise typer.Exit(_conclude(result, directory, ["html", "markdown"], suite_path))


def _read_results(directory: Path) -> AuditResult:
    from pydantic import ValidationError

    from auditkit.results import AuditResult

    path = directory / RESULTS_FILE
    if not path.is_file():
        raise UserError(f"{path}: file not found (run 'auditkit run' first)")
    try:
        return AuditResult.read(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: not an auditkit results file: {where}: {first['msg']}") from None


cache_app = typer.Typer(no_args_is_help=True, help="Inspect or empty the result cache.")
app.add_typer(cache_app, name="cache")
_CACHE_DIR_HELP = (
    "The cache folder. Default: the one 'auditkit run' uses for --suite, else "
    "reports/.auditkit-cache under the working directory."
)


def _cache_folder(cache_dir: Path | None, suite: Path | None) -> Path:
    from auditkit.cache import CACHE_DIR_NAME, default_cache_dir
    from auditkit.suite import load_suite

    if cache_dir is not None:
        return cache_dir
    if suite is not None:
        return default_cache_dir(load_suite(suite, check_data=False).report_dir())
    return Path.cwd() / "reports" / CACHE_DIR_NAME  # beside the default output, reports/NAME


_SUITE_CACHE_OPTION = typer.Option(None, "--suite", help="Use this suite's default cache.")
_CACHE_DIR_OPTION = typer.Option(None, "--cache-dir", help=_CACHE_DIR_HELP)


@contextlib.contextmanager
def _existing_cache(cache_dir: Path | None, suite: Path | None) -> Iterator[ResultCache | None]:
    """The cache the options point at, or ``None`` (said on the terminal) when there is none."""
    from auditkit.cache import CACHE_FILE, open_cache

    folder = _cache_folder(cache_dir, suite)
    if not (folder / CACHE_FILE).is_file():
        typer.echo(f"no cache in {folder}")
        yield None
        return
    with open_cache(folder) as cache:
        yield cache


@cache_app.command("info")
@_reports_user_errors
def cache_info(
    cache_dir: Optional[Path] = _CACHE_DIR_OPTION,  # noqa: UP045
    suite: Optional[Path] = _SUITE_CACHE_OPTION,  # noqa: UP045
) -> None:
    """Show what the result cache holds: entries, size, and per model."""
    from auditkit.cache import describe

    with _existing_cache(cache_dir, suite) as cache:
        if cache is not None:
            for line in describe(cache.stats()):
                typer.echo(line)


@cache_app.command("clear")
@_reports_user_errors
def cache_clear(
    cache_dir: Optional[Path] = _CACHE_DIR_OPTION,  # noqa: UP045
    suite: Optional[Path] = _SUITE_CACHE_OPTION,  # noqa: UP045
) -> None:
    """Remove every cached result: the next run computes everything again."""
    with _existing_cache(cache_dir, suite) as cache:
        if cache is not None:
            removed = cache.clear()
            typer.echo(f"removed {removed} probe results from {cache.folder}")


@app.command()
@_reports_user_errors
def judge(
    name: Optional[str] = typer.Argument(  # noqa: UP045
        None,
        help="A judge: abstention, refusal, premise, short_answer, answer_agreement; "
        "premise-nli, abstention-nli (with --card and --source).",
    ),
    rows: Optional[Path] = typer.Argument(  # noqa: UP045
        None,
        help=f"JSONL of rows: the item's fields (or item_id) and reply; {SAMPLES_FILE} works.",
    ),
    card: bool = typer.Option(
        False, "--card", help="Print each judge's accuracy, sensitivity and specificity instead."
    ),
    source: Optional[Path] = typer.Option(  # noqa: UP045
        None, "--source", help="With --card and an NLI judge: the local NLI model folder."
    ),
) -> None:
    """Judge saved replies without a model, one JSON line per row; or print the judges' cards.

    With --card: every judge (or NAME) measured on its shipped held-out set (never tuned on),
    with 95% Wilson intervals and the development set's accuracy beside it; the NLI judges need
    --source DIR. Rows that carry a `label` are also summarised as a card on stderr."""
    from auditkit.judges import JUDGES
    from auditkit.judges.card import judge_card
    from auditkit.judges.nli import NLIJudge
    from auditkit.judges.rejudge import all_cards, card_text, json_line, judge_file

    options: dict[str, Path] = {}
    if source is not None:
        nli = sorted(n for n, cls in JUDGES.items() if issubclass(cls, NLIJudge))
        if not card or name not in nli:
            raise UserError(f"--source goes with --card and an NLI judge: {', '.join(nli)}")
        options["source"] = source
    if card:
        cards = [judge_card(name, **options)] if name else all_cards()
        for number, each in enumerate(cards):
            if number:
                typer.echo("")
            for line in card_text(each):
                typer.echo(line)
        return
    if name is None or rows is None:
        raise UserError("give a judge and a JSONL file of rows (or --card)")
    results, measured = judge_file(name, rows)
    for result in results:
        typer.echo(json_line(result))
    if measured is not None:
        for line in card_text(measured, rows=str(rows)):
            typer.echo(line, err=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema of suite files (for editor completion and validation)."""
    from auditkit.suite import json_schema

    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")


def main() -> None:
    app()
