"""The image-classification probe on a scripted classifier, with every metric worked out by hand,
and its checks of bad data (before any model loads)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from auditkit.engine.timing import ManualClock
from auditkit.engine.vision import ImageClassifier
from auditkit.errors import UserError
from auditkit.probes._images import read_image
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.image_classification import ImageClassification, ImageClassificationSpec
from auditkit.results import Metric
from auditkit.stats import wilson_interval
from tests.tiny_vision import COLOURS, write_image_folder

LABELS = list(COLOURS)  # red green blue yellow cyan magenta

# What the scripted classifier answers for each image of a 3-class folder (2 images a class):
#   image          top-1 (p)      right?  15-bin ECE bin
#   red/0.png      red .90        yes     13
#   red/1.png      green .60      no       9  (red is second, .30)
#   green/0.png    green .80      yes     12
#   green/1.png    green .62      yes      9
#   blue/0.png     red .50        no       7  (blue is sixth, .04: a top-5 miss too)
#   blue/1.png     blue .95       yes     14
# top1 = 4/6, top5 = 5/6; recall red 1/2, green 2/2, blue 1/2, macro 2/3.
# ECE = (|1 − .90| + |(0 + 1) − (.60 + .62)| + |1 − .80| + |0 − .50| + |1 − .95|) / 6 = 1.07 / 6
SCRIPT: dict[str, dict[str, float]] = {
    "red/0.png": {"red": 0.90},
    "red/1.png": {"green": 0.60, "red": 0.30},
    "green/0.png": {"green": 0.80},
    "green/1.png": {"green": 0.62},
    "blue/0.png": {
        "red": 0.50,
        "green": 0.20,
        "yellow": 0.10,
        "cyan": 0.09,
        "magenta": 0.07,
        "blue": 0.04,
    },
    "blue/1.png": {"blue": 0.95},
}


def completed(given: Mapping[str, float]) -> dict[str, float]:
    """``given`` with the remaining probability spread evenly over the other labels."""
    rest = [label for label in LABELS if label not in given]
    share = (1.0 - sum(given.values())) / len(rest) if rest else 0.0
    return {label: given.get(label, share) for label in LABELS}


class ScriptedImageClassifier:
    """Probabilities looked up by the image's pixels; one second of its clock per image."""

    name = "scripted-vision"

    def __init__(self, by_pixels: Mapping[bytes, dict[str, float]], labels: list[str]) -> None:
        self.by_pixels = dict(by_pixels)
        self._labels = labels
        self._clock = ManualClock()
        self.calls = 0

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    def clock(self) -> ManualClock:
        return self._clock

    def classify_images(
        self, images: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> list[dict[str, float]]:
        self.calls += 1
        self._clock.advance(float(len(images)))
        if progress:
            progress(len(images))
        return [self.by_pixels[image.tobytes()] for image in images]


def scripted(root: Path, script: Mapping[str, Mapping[str, float]]) -> ScriptedImageClassifier:
    by_pixels = {
        read_image(root / relative).tobytes(): completed(given)
        for relative, given in script.items()
    }
    return ScriptedImageClassifier(by_pixels, LABELS)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "images", per_class=2, colours=("red", "green", "blue"))


def make_probe(base: Path, data: str, **fields: Any) -> ImageClassification:
    spec = ImageClassificationSpec.model_validate(
        {"id": "images", "kind": "image_classification", "data": data, **fields},
        context={"base_dir": base},
    )
    return ImageClassification(spec)


def run(probe: ImageClassification, engine: object, seed: int = 3) -> ProbeOutput:
    return probe.run(ProbeContext(engine=engine, model_id="m", seed=seed))


def by_key(metrics: list[Metric]) -> dict[tuple[str, str | None], Metric]:
    return {(m.name, m.group): m for m in metrics}


def test_metrics_worked_out_by_hand(folder: Path) -> None:
    probe = make_probe(folder.parent, "images")
    probe.check_data()
    engine = scripted(folder, SCRIPT)
    assert isinstance(engine, ImageClassifier)
    output = run(probe, engine)
    metrics = by_key(output.metrics)

    assert [(m.name, m.group) for m in output.metrics] == [
        ("top1_accuracy", None),
        ("top5_accuracy", None),
        ("recall", "blue"),
        ("recall", "green"),
        ("recall", "red"),
        ("macro_recall", None),
        ("ece", None),
        ("images_per_second", None),
    ]
    assert set(probe.known_metrics()) == {m.name for m in output.metrics}
    assert all(m.unit is not None for m in output.metrics)
    top1 = metrics[("top1_accuracy", None)]
    assert (top1.value, top1.n, top1.per_item, top1.unit) == (4 / 6, 6, "correct", "share")
    assert (top1.ci_low, top1.ci_high) == pytest.approx(wilson_interval(4, 6))
    assert metrics[("top5_accuracy", None)].value == pytest.approx(5 / 6)
    assert metrics[("top5_accuracy", None)].per_item == "correct_top5"
    for colour, recall, n in (("red", 0.5, 2), ("green", 1.0, 2), ("blue", 0.5, 2)):
        metric = metrics[("recall", colour)]
        assert (metric.value, metric.n, metric.per_item) == (recall, n, "correct")
    macro = metrics[("macro_recall", None)]
    assert macro.value == pytest.approx(2 / 3)
    assert macro.ci_low is not None and macro.ci_high is not None
    assert macro.ci_low <= macro.value <= macro.ci_high
    ece = metrics[("ece", None)]
    assert ece.value == pytest.approx(1.07 / 6)
    assert (ece.direction, ece.interval, ece.unit) == ("lower", "bootstrap", "fraction")
    speed = metrics[("images_per_second", None)]
    assert (speed.value, speed.unit, speed.direction, speed.ci_low) == (
        1.0,
        "images/s",
        "higher",
        None,
    )

    samples = {s.item_id: s for s in output.samples}
    # An image folder is read class by class in turn.
    assert list(samples) == [
        "blue/0.png",
        "green/0.png",
        "red/0.png",
        "blue/1.png",
        "green/1.png",
        "red/1.png",
    ]
    wrong = samples["blue/0.png"]
    assert (wrong.output, wrong.target) == ("red", "blue")
    assert wrong.scores == {
        "correct": 0.0,
        "correct_top5": 0.0,
        "p_gold": pytest.approx(0.04),
        "confidence": 0.5,
    }
    assert [label for label, _ in wrong.details["top5"]] == [
        "red",
        "green",
        "yellow",
        "cyan",
        "magenta",
    ]
    assert wrong.details["path"] == str(folder / "blue" / "0.png")
    assert samples["red/1.png"].details["top5"][:2] == [
        ["green", 0.6],
        ["red", pytest.approx(0.3)],
    ]


def test_the_same_images_from_a_table_with_a_label_map(folder: Path) -> None:
    rows = [
        {"path": f"images/{colour}/{n}.png", "label": colour.upper()}
        for colour in ("red", "green", "blue")
        for n in (0, 1)
    ]
    table = folder.parent / "labels.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    csv_table = folder.parent / "labels.csv"
    csv_table.write_text(
        "path,label\n" + "".join(f"{r['path']},{r['label']}\n" for r in rows), encoding="utf-8"
    )
    label_map = {"RED": "red", "GREEN": "green", "BLUE": "blue"}
    engine = scripted(folder, SCRIPT)
    for data in ("labels.jsonl", "labels.csv"):
        probe = make_probe(folder.parent, data, label_map=label_map)
        probe.check_data()
        metrics = by_key(run(probe, engine).metrics)
        assert metrics[("top1_accuracy", None)].value == pytest.approx(4 / 6)
        assert metrics[("ece", None)].value == pytest.approx(1.07 / 6)
        assert metrics[("recall", "GREEN")].value == 1.0
    assert probe.data_files()[0] == csv_table
    assert len(probe.data_files()) == 7


def test_limit_keeps_the_classes_balanced(folder: Path) -> None:
    output = run(make_probe(folder.parent, "images", limit=3), scripted(folder, SCRIPT))
    assert [s.target for s in output.samples] == ["blue", "green", "red"]


def test_no_top5_for_a_model_with_fewer_than_five_labels(folder: Path) -> None:
    script = {f"{c}/{n}.png": {c: 1.0} for c in ("red", "green", "blue") for n in (0, 1)}
    by_pixels = {
        read_image(folder / relative).tobytes(): {
            **dict.fromkeys(("red", "green", "blue"), 0.0),
            **p,
        }
        for relative, p in script.items()
    }
    engine = ScriptedImageClassifier(by_pixels, ["red", "green", "blue"])
    output = run(make_probe(folder.parent, "images"), engine)
    names = {m.name for m in output.metrics}
    assert "top5_accuracy" not in names
    assert by_key(output.metrics)[("top1_accuracy", None)].value == 1.0
    assert by_key(output.metrics)[("ece", None)].value == 0.0
    assert "correct_top5" not in output.samples[0].scores


def test_labels_the_model_does_not_know_name_both_sets(folder: Path) -> None:
    engine = ScriptedImageClassifier({}, ["cat", "dog"])
    with pytest.raises(ValueError) as raised:
        run(make_probe(folder.parent, "images"), engine)
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        "data labels blue, green, red are not labels of scripted-vision (cat, dog); "
        "map them with label_map"
    )


def test_a_missing_and_an_unreadable_image(folder: Path) -> None:
    (folder / "red" / "1.png").write_bytes(b"not a png at all")
    table = folder.parent / "labels.csv"
    table.write_text(
        "path,label\nimages/red/0.png,red\n\nimages/red/9.png,red\nimages/red/1.png,red\n",
        encoding="utf-8",
    )
    with pytest.raises(UserError) as raised:
        make_probe(folder.parent, "labels.csv").check_data()
    problems = raised.value.problems
    assert len(problems) == 2
    assert problems[0] == f"{table}:4: image not found: {folder / 'red' / '9.png'}"
    assert problems[1].startswith(f"{table}:5: cannot read image {folder / 'red' / '1.png'}: ")
    with pytest.raises(UserError, match=r"red/1\.png: cannot read image"):
        make_probe(folder.parent, "images").check_data()


def test_an_empty_class_folder_and_malformed_tables(folder: Path) -> None:
    (folder / "grey").mkdir()
    with pytest.raises(UserError) as raised:
        make_probe(folder.parent, "images").check_data()
    assert raised.value.problems == [
        f"{folder / 'grey'}: class 'grey' has no images " + ("(.png, .jpg, .jpeg, .bmp, .webp)")
    ]
    bad_header = folder.parent / "bad.csv"
    bad_header.write_text("file,label\nimages/red/0.png,red\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.csv:1: the header has no column path$"):
        make_probe(folder.parent, "bad.csv").check_data()
    bad_rows = folder.parent / "bad.jsonl"
    bad_rows.write_text(
        '{"path": "images/red/0.png", "label": "red"}\n{"path": "x.png"\n'
        '{"path": "images/red/1.png", "label": ""}\n[1, 2]\n',
        encoding="utf-8",
    )
    with pytest.raises(UserError) as raised:
        make_probe(folder.parent, "bad.jsonl").check_data()
    assert [p.split(": ", 1)[0] for p in raised.value.problems] == [
        f"{bad_rows}:2:17",
        f"{bad_rows}:3",
        f"{bad_rows}:4",
    ]
    other = folder.parent / "labels.txt"
    other.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match=r"an image folder, a \.csv or a \.jsonl table"):
        make_probe(folder.parent, "labels.txt").check_data()


def test_nan_free_on_a_single_image(folder: Path) -> None:
    output = run(make_probe(folder.parent, "images", limit=1), scripted(folder, SCRIPT))
    assert all(not math.isnan(m.value) for m in output.metrics)
