"""Bad input never ends in a traceback: a corpus of malformed suites and data files, each with
the exact problem lines expected, and a fuzz test of the suite loader."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import UserError
from auditkit.probes.base import PROBES
from auditkit.suite import load_suite

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"
CASES = sorted(CORPUS.glob("*.yaml"))
WHOLE_FILE_PROBLEMS = (
    re.compile(r": no items \(the file is empty\)$"),
    re.compile(r": cannot read: .* \(line \d+\); save the file as UTF-8$"),
)
"""Problems of a whole file, which name the file without a line (or name the line inside)."""


def test_the_corpus_is_large_and_complete() -> None:
    assert len(CASES) >= 40
    assert [p.stem for p in CASES] == sorted(p.stem for p in CORPUS.glob("*.expected"))


def expected_lines(case: Path) -> list[str]:
    import auditkit.probes  # noqa: F401  (the registered kinds appear in some messages)

    text = case.with_suffix(".expected").read_text("utf-8")
    text = text.replace("{dir}", str(CORPUS)).replace("{kinds}", ", ".join(sorted(PROBES)))
    return text.splitlines()


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_validate_reports_each_problem_as_one_located_line(case: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(case)])

    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines == expected_lines(case)
    for line in lines:
        assert line.startswith(str(CORPUS) + "/"), line
        located = re.match(r"^[^:]+:\d+(:\d+)?: \S", line)
        assert located or any(p.search(line) for p in WHOLE_FILE_PROBLEMS), line


# --- fuzzing the suite loader ---------------------------------------------------------------

FIELDS = [
    "schema_version",
    "name",
    "seed",
    "device",
    "models",
    "probes",
    "baseline",
    "report",
    "id",
    "source",
    "kind",
    "data",
    "limit",
    "gates",
    "metric",
    "min",
    "max_drop",
    "dtype",
    "executor",
    "isolation",
    "ray",
    "address",
    "policy",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["mock:shortest", "hf:./x", "multiple_choice", "cpu", "1", "items.jsonl"]),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=25,
)
VALID: dict[str, Any] = {
    "schema_version": 1,
    "name": "fuzz",
    "models": [{"id": "a", "source": "mock:shortest"}],
    "probes": [{"id": "mc", "kind": "multiple_choice", "data": "items.jsonl"}],
}
FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "items.jsonl").write_text(
        '{"question": "q", "choices": ["a", "b"], "answer": 0}\n', "utf-8"
    )
    return folder


def loads_or_reports(path: Path) -> None:
    """The only acceptable outcomes: a suite, or a ``UserError`` of located lines."""
    try:
        load_suite(path)
    except UserError as exc:
        assert exc.problems
        assert all(problem.startswith(str(path.parent)) for problem in exc.problems)


@FUZZ_SETTINGS
@given(text=st.text(max_size=300))
def test_random_text_never_crashes_the_loader(fuzz_dir: Path, text: str) -> None:
    path = fuzz_dir / "text.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    loads_or_reports(path)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=200))
def test_random_bytes_never_crash_the_loader(fuzz_dir: Path, data: bytes) -> None:
    path = fuzz_dir / "bytes.yaml"
    path.write_bytes(data)
    loads_or_reports(path)


@FUZZ_SETTINGS
@given(document=values)
def test_random_structures_never_crash_the_loader(fuzz_dir: Path, document: Any) -> None:
    path = fuzz_dir / "structure.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    loads_or_reports(path)


@FUZZ_SETTINGS
@given(
    where=st.sampled_from(
        [(), ("models", 0), ("probes", 0), ("models",), ("probes",), ("probes", 0, "gates")]
    ),
    key=st.sampled_from(FIELDS),
    value=values,
)
def test_a_valid_suite_with_one_random_change_never_crashes_the_loader(
    fuzz_dir: Path, where: tuple[Any, ...], key: str, value: Any
) -> None:
    import copy

    document: Any = copy.deepcopy(VALID)
    target = document
    for part in where:
        if isinstance(target, dict):
            target = target.setdefault(part, [])
        elif isinstance(target, list) and isinstance(part, int) and part < len(target):
            target = target[part]
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list):
        target.append({key: value})
    path = fuzz_dir / "mutated.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    loads_or_reports(path)
