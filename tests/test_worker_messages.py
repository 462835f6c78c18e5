"""Worker messages: typed values that pickle (the pipe of a worker process, a Ray queue), and
probe outcomes that read the result cache's entries, those written before messages were typed
included."""

from __future__ import annotations

import json
import math
import multiprocessing
import pickle
from types import SimpleNamespace
from typing import Any, Literal

import pytest

from auditkit.probes.base import Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample
from auditkit.results import ErrorInfo, Metric, ModelInfo
from auditkit.samples_schema import SampleRecord
from auditkit.worker import (
    Done,
    Loaded,
    LoadFailed,
    Message,
    ProbeFinished,
    ProbeOutcome,
    ProbeStarted,
    Progress,
    Started,
    WorkerDied,
    run_probe,
    sample_data,
    sample_record,
)

METRICS = [
    Metric(name="accuracy", value=0.75, ci_low=0.3, ci_high=0.95, n=4, direction="higher"),
    Metric(name="accuracy", value=math.nan, n=0, direction="higher", group="empty"),
]
SAMPLES = [
    Sample("q1", "Qu'est-ce que «π»?", "3.14", "π", {"correct": 1.0, "nan": math.nan}),
    Sample("q2", "in", "out", "", {"correct": 0.0, "count": 3, "flag": True}, {"t": (1, 2)}),
]
INFO = ModelInfo(
    source="mock:shortest",
    resolved="mock:shortest",
    architecture="mock",
    parameters=0,
    bytes_on_disk=0,
    dtype="float32",
    device="cpu",
    load_seconds=0.0,
)


def outcome() -> ProbeOutcome:
    return ProbeOutcome(1.5, METRICS, [sample_record(s, "m", "p") for s in SAMPLES])


def messages() -> list[Message]:
    error = ErrorInfo(type="OSError", message="no such file", stage="load")
    return [
        Started(),
        Loaded(INFO, ["H200"], "12.4", ["9.0"]),
        LoadFailed(error, "Traceback ..."),
        ProbeStarted(0),
        ProbeFinished(0, outcome()),
        Progress("advance", 3),
        WorkerDied("killed"),
        Done(),
    ]


def as_json(value: Any) -> str:
    """A comparable text of values holding NaN (which is never equal to itself)."""
    return json.dumps(value, sort_keys=True, default=repr)


def same(first: Message, second: Message) -> bool:
    """Equal, field for field (compared as text: a NaN is never equal to itself)."""
    return type(first) is type(second) and repr(first) == repr(second)


@pytest.mark.parametrize("message", messages(), ids=lambda m: type(m).__name__)
def test_every_message_pickles_back_to_itself(message: Message) -> None:
    assert same(pickle.loads(pickle.dumps(message)), message)


def test_messages_cross_a_pipe_typed() -> None:
    receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False)
    with receiver, sender:
        received = []
        for message in messages():
            sender.send(message)
            received.append(receiver.recv())
            assert same(received[-1], message)
    finished = next(m.outcome for m in received if isinstance(m, ProbeFinished))
    assert isinstance(finished.metrics[0], Metric)
    assert isinstance(finished.samples[0], SampleRecord)


def old_cache_value() -> dict[str, Any]:
    """An entry as the cache stored it before messages were typed (metric and sample dumps)."""
    return {
        "metrics": [metric.model_dump(mode="json") for metric in METRICS],
        "samples": [sample_data(sample) for sample in SAMPLES],
        "seconds": 1.5,
    }


def test_an_entry_cached_before_typed_messages_reads_back_and_is_stored_the_same() -> None:
    old = old_cache_value()
    cached = ProbeOutcome.from_cache(old, model_id="m", probe_id="p")

    assert cached.status == "ok"
    assert as_json(cached.cache_value()) == as_json(old)
    # the samples.jsonl lines are the ones the runner wrote from such an entry before
    assert [record.to_line() for record in cached.samples] == [
        SampleRecord.model_validate({"model_id": "m", "probe_id": "p", **sample}).to_line()
        for sample in old["samples"]
    ]
    # and a fresh outcome stores exactly what a cached one holds
    assert as_json(outcome().cache_value()) == as_json(old)


def test_a_cached_outcome_takes_the_ids_of_this_run() -> None:
    cached = ProbeOutcome.from_cache(old_cache_value(), model_id="renamed", probe_id="q")
    assert {(r.model_id, r.probe_id) for r in cached.samples} == {("renamed", "q")}


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        ({"seconds": None}, TypeError),
        ({"metrics": None}, TypeError),
        ({"samples": [3]}, TypeError),
        ({"metrics": [{"name": "accuracy"}]}, ValueError),
        ({"samples": [{"item_id": "q1"}]}, ValueError),
    ],
)
def test_a_damaged_entry_is_refused(damage: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        ProbeOutcome.from_cache({**old_cache_value(), **damage}, model_id="m", probe_id="p")
    with pytest.raises(KeyError):
        ProbeOutcome.from_cache({"metrics": [], "samples": []}, model_id="m", probe_id="p")


class WordySpec(ProbeSpec):
    kind: Literal["test_wordy_scores"]


class WordyScores(Probe[WordySpec]):
    """A broken probe: its sample's score is text, which no ``samples.jsonl`` record holds."""

    Spec = WordySpec

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        sample = Sample("q1", "in", "out", "", {"grade": "good"})  # type: ignore[dict-item]
        return ProbeOutput([METRICS[0]], [sample])


def test_a_sample_that_is_no_record_makes_its_probe_an_error_row() -> None:
    probe = WordyScores(WordySpec(id="wordy", kind="test_wordy_scores"))
    loaded: Any = SimpleNamespace(engine=object(), info=INFO)
    result = run_probe(probe, loaded, "m", seed=1, emit=lambda message: None)
    assert result.status == "error"
    assert result.error is not None
    assert (result.error.type, result.error.stage) == ("ValidationError", "probe")
    assert "SampleRecord" in result.error.message
    assert "score 'grade' is not a number" in result.trace
    assert result.metrics == [] and result.samples == []
