"""The object-detection probe on a scripted detector over coloured squares: exact COCO numbers for
perfect, shifted and missing detections, agreement with COCOeval's own summary, silence, and its
checks of bad annotation files."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditkit.engine.timing import ManualClock
from auditkit.engine.vision import Detection, ObjectDetector
from auditkit.errors import UserError
from auditkit.probes._coco import average_precision, evaluate, read_coco, resample
from auditkit.probes._images import read_image
from auditkit.probes.base import ProbeContext, ProbeOutput
from auditkit.probes.object_detection import ObjectDetection, ObjectDetectionSpec
from auditkit.results import Metric
from tests.tiny_vision import SHAPE_COLOURS, write_coco_set

BoxRule = Callable[[dict[str, Any], str], list[Detection]]
"""(ground-truth annotation, its category name) → what the scripted detector reports for it."""


class ScriptedDetector:
    """Detections looked up by the image's pixels; one second of its clock per image."""

    name = "scripted-detector"

    def __init__(self, by_pixels: Mapping[bytes, list[Detection]], labels: list[str]) -> None:
        self.by_pixels = dict(by_pixels)
        self._labels = labels
        self._clock = ManualClock()

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    def clock(self) -> ManualClock:
        return self._clock

    def detect(
        self,
        images: Sequence[Any],
        progress: Callable[[int], None] | None = None,
        *,
        min_score: float = 0.0,
    ) -> list[list[Detection]]:
        self._clock.advance(float(len(images)))
        if progress:
            progress(len(images))
        return [
            [d for d in self.by_pixels[image.tobytes()] if d.score >= min_score] for image in images
        ]


@pytest.fixture
def annotations(tmp_path: Path) -> Path:
    return write_coco_set(tmp_path / "coco", images=6)


def scripted(
    annotations: Path, rule: BoxRule, labels: Sequence[str] = SHAPE_COLOURS
) -> ScriptedDetector:
    coco = json.loads(annotations.read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    by_pixels = {}
    for image in coco["images"]:
        pixels = read_image(annotations.parent / "images" / image["file_name"]).tobytes()
        by_pixels[pixels] = [
            detection
            for a in coco["annotations"]
            if a["image_id"] == image["id"]
            for detection in rule(a, names[a["category_id"]])
        ]
    return ScriptedDetector(by_pixels, list(labels))


def exact(annotation: dict[str, Any], name: str) -> list[Detection]:
    x, y, w, h = annotation["bbox"]
    return [Detection(x, y, w, h, name, 0.9)]


def shifted(annotation: dict[str, Any], name: str) -> list[Detection]:
    """Moved right by a fifth of the side: IoU (s − s/5) / (s + s/5) = 2/3 for every square."""
    x, y, w, h = annotation["bbox"]
    return [Detection(x + w / 5, y, w, h, name, 0.9)]


def make_probe(annotations: Path, **fields: Any) -> ObjectDetection:
    spec = ObjectDetectionSpec.model_validate(
        {
            "id": "boxes",
            "kind": "object_detection",
            "annotations": annotations.name,
            "images": "images",
            "bootstrap_resamples": 50,
            **fields,
        },
        context={"base_dir": annotations.parent},
    )
    return ObjectDetection(spec)


def run(probe: ObjectDetection, engine: object) -> ProbeOutput:
    return probe.run(ProbeContext(engine=engine, model_id="m", seed=5))


def by_key(metrics: list[Metric]) -> dict[tuple[str, str | None], Metric]:
    return {(m.name, m.group): m for m in metrics}


def test_ground_truth_boxes_score_one(annotations: Path) -> None:
    probe = make_probe(annotations)
    probe.check_data()
    engine = scripted(annotations, exact)
    assert isinstance(engine, ObjectDetector)
    output = run(probe, engine)
    metrics = by_key(output.metrics)

    assert [(m.name, m.group) for m in output.metrics] == [
        ("map_50_95", None),
        ("map_50", None),
        ("ap_50_95", "red"),
        ("ap_50_95", "green"),
        ("ap_50_95", "blue"),
        ("recall_50", None),
        ("precision_50", None),
        ("images_per_second", None),
    ]
    assert set(probe.known_metrics()) == {m.name for m in output.metrics}
    assert all(m.unit is not None for m in output.metrics)
    for metric in output.metrics[:-1]:
        assert (metric.value, metric.n) == (1.0, 6), metric.name
    overall = metrics[("map_50_95", None)]
    assert (overall.ci_low, overall.ci_high) == (1.0, 1.0)
    assert (overall.interval, overall.interval_detail) == (
        "bootstrap",
        "50 resamples of the images",
    )
    assert metrics[("recall_50", None)].per_item == "recall_50"
    assert metrics[("images_per_second", None)].value == 1.0

    first = output.samples[0]
    assert (first.item_id, first.input, first.target) == ("img00.png", "img00.png", "1 objects")
    assert first.output == "red 0.90"
    assert first.scores == {"recall_50": 1.0, "precision_50": 1.0}
    assert first.details == {
        "detections": [{"label": "red", "score": 0.9, "box": [2.0, 4.0, 10.0, 10.0]}],
        "detections_evaluated": 1,
        "detections_dropped": 0,
        "ground_truth": 1,
    }


def test_shifted_boxes_match_up_to_iou_two_thirds(annotations: Path) -> None:
    metrics = by_key(run(make_probe(annotations), scripted(annotations, shifted)).metrics)
    # IoU 2/3 clears the thresholds 0.50, 0.55, 0.60 and 0.65: four of COCO's ten.
    assert metrics[("map_50_95", None)].value == pytest.approx(0.4)
    assert metrics[("map_50", None)].value == 1.0
    for colour in SHAPE_COLOURS:
        assert metrics[("ap_50_95", colour)].value == pytest.approx(0.4)
    assert metrics[("recall_50", None)].value == 1.0


def test_a_class_the_detector_never_finds(annotations: Path) -> None:
    def no_blue(annotation: dict[str, Any], name: str) -> list[Detection]:
        return [] if name == "blue" else exact(annotation, name)

    output = run(make_probe(annotations), scripted(annotations, no_blue))
    metrics = by_key(output.metrics)
    assert metrics[("ap_50_95", "blue")].value == 0.0
    assert metrics[("ap_50_95", "red")].value == 1.0
    assert metrics[("map_50_95", None)].value == pytest.approx(2 / 3)
    # Images 1, 2, 4 and 5 hold a blue square among two or three: the others are found.
    recalls = [s.scores["recall_50"] for s in output.samples]
    assert recalls == pytest.approx([1, 1 / 2, 2 / 3, 1, 1 / 2, 2 / 3])
    assert metrics[("recall_50", None)].value == pytest.approx(np.mean(recalls))
    assert metrics[("precision_50", None)].value == 1.0


def test_labels_outside_the_data_are_dropped_and_counted(annotations: Path) -> None:
    def with_extra(annotation: dict[str, Any], name: str) -> list[Detection]:
        return [*exact(annotation, name), Detection(0, 0, 5, 5, "purple", 0.99)]

    engine = scripted(annotations, with_extra, [*SHAPE_COLOURS, "purple"])
    output = run(make_probe(annotations), engine)
    assert by_key(output.metrics)[("map_50_95", None)].value == 1.0
    first = output.samples[0]
    assert (first.details["detections_dropped"], first.details["detections_evaluated"]) == (1, 1)
    assert "purple" not in first.output


def test_label_map_and_unknown_categories(annotations: Path) -> None:
    def renamed(annotation: dict[str, Any], name: str) -> list[Detection]:
        return exact(annotation, name.upper())

    engine = scripted(annotations, renamed, ["RED", "GREEN", "BLUE"])
    with pytest.raises(ValueError) as raised:
        run(make_probe(annotations), engine)
    assert str(raised.value) == (
        "categories blue, green, red are not labels of scripted-detector (RED, GREEN, BLUE); "
        "map them with label_map"
    )
    mapped = make_probe(annotations, label_map={"red": "RED", "green": "GREEN", "blue": "BLUE"})
    assert by_key(run(mapped, engine).metrics)[("map_50_95", None)].value == 1.0
    clash = make_probe(annotations, label_map={"red": "RED", "green": "RED", "blue": "BLUE"})
    with pytest.raises(ValueError, match="two categories to the same model label"):
        run(clash, engine)


def test_no_detections_at_all_score_zero(annotations: Path) -> None:
    output = run(make_probe(annotations), scripted(annotations, lambda a, n: []))
    metrics = by_key(output.metrics)
    assert metrics[("map_50_95", None)].value == 0.0
    assert metrics[("recall_50", None)].value == 0.0
    precision = metrics[("precision_50", None)]
    assert (precision.n, precision.ci_low) == (0, None)  # no image has a detection to judge
    assert output.samples[0].output == "(none)"


def test_min_and_operating_scores(annotations: Path) -> None:
    def two_scores(annotation: dict[str, Any], name: str) -> list[Detection]:
        x, y, w, h = annotation["bbox"]
        score = 0.3 if annotation["id"] % 2 else 0.8
        return [Detection(x, y, w, h, name, score)]

    engine = scripted(annotations, two_scores)
    loose = by_key(run(make_probe(annotations), engine).metrics)
    assert loose[("map_50", None)].value == 1.0  # every box found, at whatever score
    strict = by_key(run(make_probe(annotations, min_score=0.5), engine).metrics)
    assert strict[("map_50", None)].value < 1.0
    high = by_key(run(make_probe(annotations, operating_score=0.9), engine).metrics)
    assert high[("recall_50", None)].value == 0.0


def test_silent_and_equal_to_cocoevals_own_summary(
    annotations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def messy(annotation: dict[str, Any], name: str) -> list[Detection]:
        x, y, w, h = annotation["bbox"]
        n = annotation["id"]
        wrong = SHAPE_COLOURS[(SHAPE_COLOURS.index(name) + 1) % 3]
        return [
            Detection(x + (n % 4) * w / 10, y, w, h * (1 + n % 3 / 10), name, 0.3 + n / 40),
            Detection(x + 1, y + 1, w, h, wrong, 0.5 - n / 50),
        ]

    probe = make_probe(annotations)
    output = run(probe, scripted(annotations, messy))
    assert capsys.readouterr().out == ""
    metrics = by_key(output.metrics)

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    detections = [
        {
            "image_id": int(s.item_id[3:5]) + 1,
            "category_id": SHAPE_COLOURS.index(d["label"]) + 1,
            "bbox": d["box"],
            "score": d["score"],
        }
        for s in output.samples
        for d in messy_all(annotations, messy)[s.item_id]
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(annotations))
        reference = COCOeval(truth, truth.loadRes(detections), "bbox")
        reference.evaluate()
        reference.accumulate()
        reference.summarize()
    assert 0 < metrics[("map_50_95", None)].value < metrics[("map_50", None)].value < 1
    assert metrics[("map_50_95", None)].value == pytest.approx(reference.stats[0])
    assert metrics[("map_50", None)].value == pytest.approx(reference.stats[1])


def messy_all(annotations: Path, rule: BoxRule) -> dict[str, list[dict[str, Any]]]:
    """File name → every detection ``rule`` makes for the image (as sample details store them)."""
    coco = json.loads(annotations.read_text(encoding="utf-8"))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    found: dict[str, list[dict[str, Any]]] = {}
    for image in coco["images"]:
        found[image["file_name"]] = [
            {"label": d.label, "score": d.score, "box": [d.x, d.y, d.width, d.height]}
            for a in coco["annotations"]
            if a["image_id"] == image["id"]
            for d in rule(a, names[a["category_id"]])
        ]
    return found


def test_resampling_every_image_once_gives_the_original(annotations: Path) -> None:
    coco = read_coco(annotations, annotations.parent / "images")
    results = [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": b, "score": 0.9}
        for a in coco.annotations
        for b in ([a["bbox"][0] + a["bbox"][2] / 5, *a["bbox"][1:]],)
    ]
    evaluator = evaluate(coco, results)
    same = resample(evaluator, np.arange(len(coco.images)))
    assert average_precision(same) == average_precision(evaluator) == pytest.approx(0.4)
    doubled = resample(evaluator, np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]))
    assert average_precision(doubled) == pytest.approx(0.4)


def test_bad_annotation_files(annotations: Path) -> None:
    coco = json.loads(annotations.read_text(encoding="utf-8"))
    coco["annotations"][1]["bbox"] = [1, 2, 0, 4]
    coco["annotations"][2]["category_id"] = 9
    coco["annotations"][3]["image_id"] = 99
    coco["images"][1]["file_name"] = "gone.png"
    coco["images"][2]["width"] = 999
    coco["categories"].append({"id": 7, "name": "red"})
    annotations.write_text(json.dumps(coco), encoding="utf-8")
    with pytest.raises(UserError) as raised:
        make_probe(annotations).check_data()
    assert raised.value.problems == [
        f"{annotations}: categories[3]: id 7 or name 'red' is repeated",
        f"{annotations}: annotations[1]: bbox [1, 2, 0, 4] must be [x, y, width, height] with "
        "width and height above 0",
        f"{annotations}: annotations[2]: category_id 9 is not a category of this file",
        f"{annotations}: annotations[3]: image_id 99 is not an image of this file",
    ]
    del coco["categories"][3]
    for entry in coco["annotations"]:
        entry.update(bbox=[1, 2, 3, 4], category_id=1, image_id=1)
    annotations.write_text(json.dumps(coco), encoding="utf-8")
    with pytest.raises(UserError) as raised:
        make_probe(annotations).check_data()
    images = annotations.parent / "images"
    assert raised.value.problems == [
        f"{annotations}: images[1]: image not found: {images / 'gone.png'}",
        f"{annotations}: images[2]: declared 999×40 pixels, but {images / 'img02.png'} is 64×40",
    ]
    annotations.write_text('{"images": [\n  {"id": 1,}\n]}', encoding="utf-8")
    with pytest.raises(UserError, match=r"annotations\.json:2:12: not valid JSON"):
        make_probe(annotations).check_data()
    annotations.write_text('{"images": []}', encoding="utf-8")
    with pytest.raises(UserError, match="lists images, annotations and categories"):
        make_probe(annotations).check_data()
