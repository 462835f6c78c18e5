"""The ``generation`` probe on scripted mock models: the built-in metrics worked out by hand,
evaluate metrics from local modules (the shipped ``word_overlap`` and a corpus-level one written
here), the one-line error for a hub metric offline, bad data, and a gated suite end to end."""

from __future__ import annotations

import io
import json
import shutil
import socket
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from auditkit.engine.base import GenerationRequest, ProgressCallback
from auditkit.engine.mock import MockModel
from auditkit.errors import UserError
from auditkit.probes import _reference_metrics
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.dataset import builtin_data
from auditkit.probes.reference_generation import GenerationSpec, ReferenceGeneration
from auditkit.progress import LogProgress
from auditkit.results import Metric
from auditkit.runner import AuditRun
from auditkit.stats import bootstrap_mean_interval
from auditkit.suite import load_suite
from tests.helpers_suites import wilson, write_jsonl
from tests.probes.units import assert_units_read_as_before

SHIPPED_METRIC = builtin_data("data/generation/metrics/word_overlap")

ITEMS: list[dict[str, Any]] = [
    {"id": "paris", "prompt": "Name the capital of France.", "reference": "Paris"},
    {"id": "km", "prompt": "Convert 3 km to metres.", "reference": ["3000 metres", "3000 m"]},
    {"id": "planet", "prompt": "Which planet is the largest?", "reference": "Jupiter"},
    {"id": "big", "prompt": "Give one synonym of big.", "reference": ["large", "huge"]},
]
REPLIES = {
    "France": "Paris.",  # exact (normalised), F1 1, overlap 1
    "3 km": "It is 3000 metres",  # F1 2/3 against "3000 m" tokens; overlap 2/4 against ref 1
    "synonym": "huge",  # the second reference: exact, F1 1, overlap 1
}  # the planet gets "I don't know.": 0 everywhere
TOKEN_F1 = [1.0, 2 / 3, 0.0, 1.0]
WORD_OVERLAP = [1.0, 0.5, 0.0, 1.0]


@pytest.fixture(scope="module", autouse=True)
def evaluate_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """evaluate copies every module it loads into its module cache, which it locates when it is
    imported: import it here with its caches in a folder of this test run, not the user's (when
    no earlier test has imported it)."""
    if "evaluate" in sys.modules:
        yield
        return
    folder = tmp_path_factory.mktemp("evaluate-cache")
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("HF_MODULES_CACHE", "HF_METRICS_CACHE", "HF_EVALUATE_CACHE"):
            patch.setenv(variable, str(folder / variable.lower()))
        import evaluate  # noqa: F401  (reads the variables now)
    yield


class RecordingModel(MockModel):
    """A mock that keeps the generation requests it was given."""

    def __init__(self, replies: dict[str, str]) -> None:
        super().__init__("shortest", replies)
        self.requests: list[GenerationRequest] = []

    def generate(
        self, requests: Sequence[GenerationRequest], progress: ProgressCallback | None = None
    ) -> list[str]:
        self.requests += requests
        return super().generate(requests, progress)


def make(tmp_path: Path, items: list[dict[str, Any]] = ITEMS, **fields: Any) -> ReferenceGeneration:
    write_jsonl(tmp_path / "items.jsonl", items)
    spec = GenerationSpec.model_validate(
        {"id": "gen", "kind": "generation", "data": "items.jsonl", **fields},
        context={"base_dir": tmp_path},
    )
    return ReferenceGeneration(spec)


def run(probe: ReferenceGeneration, model: Any, seed: int = 5) -> ProbeOutput:
    return probe.run(ProbeContext(engine=model, model_id="m", seed=seed))


def metric(output: ProbeOutput, name: str) -> Metric:
    return next(m for m in output.metrics if m.name == name)


def test_exact_match_and_token_f1_by_hand(tmp_path: Path) -> None:
    model = RecordingModel(REPLIES)
    probe = make(tmp_path, max_new_tokens=12)

    output = run(probe, model, seed=5)

    exact, f1 = metric(output, "exact_match"), metric(output, "token_f1")
    assert (exact.value, exact.n, exact.unit, exact.interval) == (0.5, 4, "share", "wilson")
    assert (exact.ci_low, exact.ci_high) == pytest.approx(wilson(2, 4))
    assert f1.value == pytest.approx(2 / 3)
    assert (f1.n, f1.unit, f1.interval) == (4, "score", "bootstrap")
    assert (f1.ci_low, f1.ci_high) == pytest.approx(bootstrap_mean_interval(TOKEN_F1, seed=5))
    assert {m.direction for m in output.metrics} == {"higher"}
    assert [(m.name, m.per_item) for m in output.metrics] == [
        ("exact_match", "exact_match"),
        ("token_f1", "token_f1"),
    ]
    assert probe.known_metrics() == {"exact_match": True, "token_f1": True}
    assert [s.item_id for s in output.samples] == ["paris", "km", "planet", "big"]
    assert [s.scores["exact_match"] for s in output.samples] == [1.0, 0.0, 0.0, 1.0]
    assert [s.scores["token_f1"] for s in output.samples] == pytest.approx(TOKEN_F1)
    assert output.samples[1].target == "3000 metres"
    assert output.samples[1].details == {"references": ["3000 metres", "3000 m"]}
    assert output.samples[0].input == "User: Name the capital of France.\nAssistant:"
    assert [(r.max_new_tokens, r.stop) for r in model.requests] == [(12, ())] * 4
    assert_units_read_as_before(output.metrics)


def test_plain_prompts_stop_strings_and_a_limit(tmp_path: Path) -> None:
    model = RecordingModel({"France": "Paris\nand more"})
    probe = make(tmp_path, chat=False, stop=["\n"], limit=1, metrics=["exact_match"])

    output = run(probe, model)

    assert [r.prompt for r in model.requests] == ["Name the capital of France."]
    assert model.requests[0].stop == ("\n",)
    assert [(s.output, s.scores) for s in output.samples] == [("Paris", {"exact_match": 1.0})]
    assert [m.name for m in output.metrics] == ["exact_match"]


def test_a_csv_file_reads_like_jsonl(tmp_path: Path) -> None:
    (tmp_path / "items.csv").write_text(
        'id,prompt,reference\nparis,Name the capital of France.,Paris\nkm,"Convert 3 km\nto '
        'metres.",3000 metres\n',
        encoding="utf-8",
    )
    spec = GenerationSpec.model_validate(
        {"id": "gen", "kind": "generation", "data": "items.csv"}, context={"base_dir": tmp_path}
    )

    items = ReferenceGeneration(spec).items()

    assert [(i.id, i.prompt, i.references) for i in items] == [
        ("paris", "Name the capital of France.", ["Paris"]),
        ("km", "Convert 3 km\nto metres.", ["3000 metres"]),
    ]


# -- evaluate metrics from local modules ---------------------------------------------------


def test_the_shipped_local_module_loads_from_a_path_beside_the_suite(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED_METRIC, tmp_path / "metrics" / "word_overlap")
    probe = make(
        tmp_path,
        metrics=["token_f1", "./metrics/word_overlap"],
        directions={"word_overlap": "higher"},
    )
    script = tmp_path / "metrics" / "word_overlap" / "word_overlap.py"

    probe.check_data()
    output = run(probe, MockModel("shortest", REPLIES), seed=9)

    assert probe.spec.metrics == ["token_f1", str(tmp_path / "metrics" / "word_overlap")]
    assert probe.data_files() == [tmp_path / "items.jsonl", script]
    assert probe.known_metrics() is None
    overlap = metric(output, "word_overlap")
    assert overlap.value == pytest.approx(0.625)
    assert (overlap.n, overlap.unit, overlap.direction) == (4, "score", "higher")
    assert (overlap.interval, overlap.per_item) == ("bootstrap", "word_overlap")
    assert (overlap.ci_low, overlap.ci_high) == pytest.approx(
        bootstrap_mean_interval(WORD_OVERLAP, seed=9)
    )
    assert "corpus value" in overlap.description
    # "scores", a list, is not a single number: it is not reported.
    assert [m.name for m in output.metrics] == ["token_f1", "word_overlap"]
    assert [s.scores["word_overlap"] for s in output.samples] == pytest.approx(WORD_OVERLAP)
    assert_units_read_as_before(output.metrics)


def test_a_local_module_named_by_its_script(tmp_path: Path) -> None:
    probe = make(tmp_path, metrics=[str(SHIPPED_METRIC / "word_overlap.py")])

    output = run(probe, MockModel("shortest", REPLIES))

    assert [(m.name, m.direction) for m in output.metrics] == [("word_overlap", "none")]
    assert metric(output, "word_overlap").value == pytest.approx(0.625)


CORPUS_METRIC = '''
"""Test metric: shared words over all predicted words (not a mean of per-item values)."""

import datasets
import evaluate


class CorpusOverlap(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="test",
            citation="",
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references):
        shared = total = 0
        for prediction, reference in zip(predictions, references):
            words = prediction.lower().split()
            total += len(words)
            shared += sum(word in reference.lower().split() for word in words)
        return {
            "corpus_overlap": shared / total if total else 0.0,
            "predicted_words": total,
            "per_prediction": [1.0] * len(predictions),
        }
'''


def test_a_corpus_level_metric_reports_its_corpus_value_with_a_resampled_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reference_metrics, "CORPUS_RESAMPLES", 40)
    folder = tmp_path / "metrics" / "corpus_overlap"
    folder.mkdir(parents=True)
    (folder / "corpus_overlap.py").write_text(CORPUS_METRIC, encoding="utf-8")
    items = [
        {"id": "a", "prompt": "one", "reference": "red apple"},
        {"id": "b", "prompt": "two", "reference": "blue sky"},
        {"id": "c", "prompt": "three", "reference": "green"},
    ]
    replies = {"one": "red apple pie", "two": "blue", "three": "grass green wet dew"}
    probe = make(
        tmp_path,
        items,
        metrics=["metrics/corpus_overlap"],
        directions={"corpus_overlap": "higher"},
    )

    output = run(probe, MockModel("shortest", replies))

    # 2 + 1 + 1 shared words of 3 + 1 + 4 predicted: 4 / 8, while the per-item mean is
    # (2/3 + 1 + 1/4) / 3.
    overlap, words = (
        metric(output, "corpus_overlap"),
        metric(output, "corpus_overlap/predicted_words"),
    )
    assert overlap.value == pytest.approx(0.5)
    assert [s.scores["corpus_overlap"] for s in output.samples] == pytest.approx([2 / 3, 1, 0.25])
    assert overlap.ci_low is not None and overlap.ci_high is not None
    assert overlap.ci_low <= overlap.value <= overlap.ci_high
    assert "not the mean" in overlap.description
    assert (overlap.direction, words.direction) == ("higher", "none")
    assert (words.value, words.per_item) == (8.0, "corpus_overlap/predicted_words")
    assert [s.scores["corpus_overlap/predicted_words"] for s in output.samples] == [3, 1, 4]
    assert [m.name for m in output.metrics] == ["corpus_overlap", "corpus_overlap/predicted_words"]


def test_a_local_module_emits_no_progress_bars_or_log_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import evaluate  # imported first, so what follows is the probe's own output

    capsys.readouterr()
    caplog.clear()
    run(make(tmp_path, metrics=[str(SHIPPED_METRIC)]), MockModel("shortest", REPLIES))

    assert capsys.readouterr() == ("", "")
    assert [r for r in caplog.records if r.name.startswith(("evaluate", "datasets"))] == []
    assert evaluate.utils.logging.is_progress_bar_enabled()  # put back as it was


# -- evaluate metrics from the hub ----------------------------------------------------------


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE"])
def test_a_hub_metric_offline_fails_at_once_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    import evaluate

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the probe reached for the network")

    for name in ("HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "1")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    model = RecordingModel(REPLIES)
    probe = make(tmp_path, metrics=["exact_match", "evaluate:some-name"])

    with pytest.raises(UserError) as caught:
        run(probe, model)

    assert caught.value.problems == [
        "metric evaluate:some-name is not in evaluate's cache and offline (HF_HUB_OFFLINE or "
        "HF_EVALUATE_OFFLINE is set): name a local evaluate module instead, e.g. "
        "./metrics/some-name/some-name.py beside the suite"
    ]
    assert model.requests == []  # nothing was generated
    assert evaluate.config.HF_EVALUATE_OFFLINE is False  # put back as it was


@pytest.mark.parametrize(
    ("raised", "message"),
    [
        (
            ConnectionError("Couldn't reach the hub\nmore"),
            "metric evaluate:bleu is not in evaluate's cache and the hub could not be reached "
            "or has no such metric: name a local evaluate module instead, e.g. "
            "./metrics/bleu/bleu.py beside the suite",
        ),
        (
            ImportError("To be able to use bleu, you need to install: sacrebleu\nmore"),
            "metric evaluate:bleu needs packages that are not installed: To be able to use bleu, "
            "you need to install: sacrebleu",
        ),
    ],
)
def test_hub_failures_online_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raised: Exception, message: str
) -> None:
    import evaluate

    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    for name in ("HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(evaluate, "load", fail)

    with pytest.raises(UserError) as caught:
        run(make(tmp_path, metrics=["evaluate:bleu"]), MockModel())

    assert caught.value.problems == [message]


@pytest.mark.parametrize(
    ("metrics", "directions", "problem"),
    [
        (["evaluate:two words"], {}, "'evaluate:two words': write evaluate:NAME or evaluate:OWNER"),
        (["evaluate:a/b/c"], {}, "'evaluate:a/b/c': write evaluate:NAME or evaluate:OWNER/NAME"),
        (["bleu"], {}, "unknown metric 'bleu': use exact_match or token_f1, evaluate:NAME or"),
        (["evaluate:bleu", "./bleu.py"], {}, "two metrics are named 'bleu'"),
        ([], {}, "List should have at least 1 item"),
        (["token_f1"], {"token_f1": "lower"}, "directions: no evaluate metric is named token_f1"),
    ],
)
def test_metric_names_are_checked_with_the_suite(
    tmp_path: Path, metrics: list[str], directions: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make(tmp_path, metrics=metrics, directions=directions)

    assert problem in str(caught.value)


def test_hub_names_are_not_looked_up_when_the_suite_is_checked(tmp_path: Path) -> None:
    probe = make(tmp_path, metrics=["evaluate:someone/some-metric"])

    probe.check_data()

    assert probe.data_files() == [tmp_path / "items.jsonl"]


# -- bad data -------------------------------------------------------------------------------


def test_bad_jsonl_rows_are_reported_with_their_lines(tmp_path: Path) -> None:
    lines = [
        {"prompt": "fine", "reference": "ok"},
        {"prompt": "no reference"},
        {"prompt": "", "reference": "x"},
        {"prompt": "empty list", "reference": []},
        {"prompt": "blank", "reference": ["a", " "]},
    ]
    probe = make(tmp_path, lines)

    with pytest.raises(UserError) as caught:
        probe.check_data()

    path = tmp_path / "items.jsonl"
    assert caught.value.problems == [
        f"{path}:2: reference: Field required",
        f"{path}:3: prompt: String should have at least 1 character",
        f"{path}:4: reference: every reference must be a non-empty text",
        f"{path}:5: reference: every reference must be a non-empty text",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("prompt,answer\nq,a\n", "{path}:1: the header has no column reference"),
        ("id,prompt,reference\na,q,r\nb,,r\n", "{path}:3: prompt: String should have at least"),
        ('prompt,reference\n"two\nlines",r\nq,\n', "{path}:4: reference: every reference must"),
        ("prompt,reference\n", "{path}: no items (the file has a header only)"),
        ("", "{path}: no items (the file is empty)"),
    ],
)
def test_bad_csv_rows_are_reported_with_their_lines(
    tmp_path: Path, text: str, problem: str
) -> None:
    (tmp_path / "items.csv").write_text(text, encoding="utf-8")
    spec = GenerationSpec.model_validate(
        {"id": "gen", "kind": "generation", "data": "items.csv"}, context={"base_dir": tmp_path}
    )

    with pytest.raises(UserError) as caught:
        ReferenceGeneration(spec).check_data()

    assert caught.value.problems[0].startswith(problem.format(path=tmp_path / "items.csv"))


def test_a_missing_local_module_is_found_before_any_model_loads(tmp_path: Path) -> None:
    (tmp_path / "metrics" / "mine").mkdir(parents=True)
    probe = make(tmp_path, metrics=["./metrics/mine", "./metrics/gone.py"])

    with pytest.raises(UserError) as caught:
        probe.check_data()

    assert caught.value.problems == [
        f"{tmp_path / 'metrics' / 'mine' / 'mine.py'}: metric module not found (metric 'mine' "
        "of probe 'gen'; a folder must hold a script of its own name)",
        f"{tmp_path / 'metrics' / 'gone.py'}: metric module not found (metric 'gone' of probe "
        "'gen'; a folder must hold a script of its own name)",
    ]


def test_the_shipped_data_reads() -> None:
    spec = GenerationSpec.model_validate({"id": "gen", "kind": "generation"})
    probe = ReferenceGeneration(spec)

    items = probe.items()

    assert len(items) == 30
    assert len({item.id for item in items}) == 30
    assert {len(item.references) for item in items} == {1, 2}


# -- a suite end to end ---------------------------------------------------------------------

SUITE = """\
schema_version: 1
name: generation-demo
seed: 3
isolation: none
models:
  - {id: echo, source: 'mock:echo'}
  - {id: abstain, source: 'mock:abstain'}
baseline: echo
probes:
  - id: answers
    kind: generation
    data: items.jsonl
    chat: false
    metrics: [exact_match, token_f1, ./metrics/word_overlap]
    directions: {word_overlap: higher}
    gates:
      - {metric: token_f1, max_drop: 0.1}
      - {metric: word_overlap, max_drop: 0.1}
"""


def test_a_suite_gates_token_f1_against_the_baseline(tmp_path: Path) -> None:
    # mock:echo repeats the prompt's last line, which here is the answer; mock:abstain says
    # "I don't know." to everything.
    items = [
        {"id": f"i{n}", "prompt": f"Repeat after me:\nanswer {n}", "reference": f"answer {n}"}
        for n in range(12)
    ]
    write_jsonl(tmp_path / "items.jsonl", items)
    shutil.copytree(SHIPPED_METRIC, tmp_path / "metrics" / "word_overlap")
    (tmp_path / "suite.yaml").write_text(textwrap.dedent(SUITE), encoding="utf-8")

    result = AuditRun(
        load_suite(tmp_path / "suite.yaml"), tmp_path / "out", LogProgress(stream=io.StringIO())
    ).execute()

    assert result.errors == []
    echo, abstain = (m.probe("answers") for m in result.models)
    assert echo is not None and abstain is not None
    assert [(m.name, m.value) for m in echo.metrics] == [
        ("exact_match", 1.0),
        ("token_f1", 1.0),
        ("word_overlap", 1.0),
    ]
    assert [m.value for m in abstain.metrics] == [0.0, 0.0, 0.0]
    comparison = next(c for c in result.comparisons if c.metric == "token_f1")
    assert (comparison.model_id, comparison.difference, comparison.n) == ("abstain", -1.0, 12)
    assert {(v.model_id, v.metric, v.status) for v in result.verdicts} == {
        ("abstain", "token_f1", "fail"),
        ("abstain", "word_overlap", "fail"),
    }
    lines = (tmp_path / "out" / "samples.jsonl").read_text("utf-8").splitlines()
    samples = [json.loads(line) for line in lines]
    assert samples[0]["scores"] == {"exact_match": 1.0, "token_f1": 1.0, "word_overlap": 1.0}
