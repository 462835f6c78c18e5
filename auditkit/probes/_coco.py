"""COCO-format detection data and its evaluation with pycocotools' ``COCOeval``.

``read_coco`` checks an annotation file entry by entry (problems named by file and JSON path,
e.g. ``annotations.json: annotations[3]: …``). ``evaluate`` runs ``COCOeval`` (bounding boxes,
every object size, at most 100 detections per image: the numbers COCO's ``AP`` and ``AP50``
report) with pycocotools' progress prints silenced. ``resample`` re-runs COCOeval's
``accumulate`` on a bootstrap resample of the images: COCOeval matches detections to ground
truth image by image, so a resampled set's per-image evaluations are the original ones, in the
resample's order (an image drawn twice counts twice).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.probes._images import raise_problems

ALL_AREAS = [0.0, 1e5**2]
"""COCO's area range ``all``: objects of every size."""
MAX_DETECTIONS = 100
"""Detections per image that COCOeval considers (COCO's standard, the best-scored first)."""


@dataclass(frozen=True)
class CocoImage:
    id: int
    file_name: str
    path: Path
    width: int | None
    height: int | None
    where: str
    """``FILE: images[i]``, for messages."""


@dataclass(frozen=True)
class CocoSet:
    """A validated COCO annotation file, restricted to the images a run uses."""

    path: Path
    images: list[CocoImage]
    categories: dict[int, str]
    """Category id → name, in the file's order."""
    annotations: list[dict[str, Any]]
    """Ground-truth boxes of ``images``: ``id`` (renumbered from 1, as COCOeval needs),
    ``image_id``, ``category_id``, ``bbox`` (x, y, width, height), ``area``, ``iscrowd``."""

    def first(self, count: int | None) -> CocoSet:
        """The set restricted to its first ``count`` images (all of them for ``None``)."""
        if count is None:
            return self
        images = self.images[:count]
        kept = {image.id for image in images}
        annotations = [a for a in self.annotations if a["image_id"] in kept]
        return CocoSet(self.path, images, self.categories, annotations)

    def ground_truth_counts(self) -> dict[int, int]:
        """Image id → its ground-truth boxes that are not crowd regions."""
        counts = dict.fromkeys((image.id for image in self.images), 0)
        for annotation in self.annotations:
            if not annotation["iscrowd"]:
                counts[annotation["image_id"]] += 1
        return counts


def read_coco(path: Path, images_root: Path) -> CocoSet:
    """The annotation file at ``path`` (image files relative to ``images_root``), or a
    ``UserError`` naming every problem."""
    try:
        data = json.loads(read_user_text(path))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), list) for key in ("images", "annotations", "categories")
    ):
        raise UserError(f"{path}: a COCO file has the lists images, annotations and categories")
    problems: list[str] = []
    categories: dict[int, str] = {}
    for i, entry in enumerate(data["categories"]):
        where = f"{path}: categories[{i}]"
        if not isinstance(entry, dict) or not _is_int(entry.get("id")):
            problems.append(f"{where}: needs an integer id and a name")
        elif not isinstance(entry.get("name"), str) or not entry["name"].strip():
            problems.append(f"{where}: needs a non-empty name")
        elif entry["id"] in categories or entry["name"] in categories.values():
            problems.append(f"{where}: id {entry['id']} or name {entry['name']!r} is repeated")
        else:
            categories[entry["id"]] = entry["name"]
    images: dict[int, CocoImage] = {}
    for i, entry in enumerate(data["images"]):
        where = f"{path}: images[{i}]"
        if not isinstance(entry, dict) or not _is_int(entry.get("id")):
            problems.append(f"{where}: needs an integer id and a file_name")
        elif not isinstance(entry.get("file_name"), str) or not entry["file_name"].strip():
            problems.append(f"{where}: needs a non-empty file_name")
        elif entry["id"] in images:
            problems.append(f"{where}: image id {entry['id']} is repeated")
        else:
            width, height = entry.get("width"), entry.get("height")
            images[entry["id"]] = CocoImage(
                entry["id"],
                entry["file_name"],
                images_root / entry["file_name"],
                width if _is_int(width) else None,
                height if _is_int(height) else None,
                where,
            )
    annotations: list[dict[str, Any]] = []
    for i, entry in enumerate(data["annotations"]):
        found = _annotation(entry, images, categories)
        if isinstance(found, str):
            problems.append(f"{path}: annotations[{i}]: {found}")
        else:
            annotations.append({**found, "id": len(annotations) + 1})
    if not images and not problems:
        problems.append(f"{path}: no images")
    raise_problems(problems, path)
    return CocoSet(path, list(images.values()), categories, annotations)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_box(box: Any) -> bool:
    numbers = isinstance(box, list) and len(box) == 4
    numbers = numbers and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box
    )
    return bool(numbers and box[2] > 0 and box[3] > 0)


def _annotation(
    entry: object, images: dict[int, CocoImage], categories: dict[int, str]
) -> dict[str, Any] | str:
    """The annotation with defaults filled in, or what is wrong with it."""
    if not isinstance(entry, dict):
        return "must be an object"
    if entry.get("image_id") not in images:
        return f"image_id {entry.get('image_id')!r} is not an image of this file"
    if entry.get("category_id") not in categories:
        return f"category_id {entry.get('category_id')!r} is not a category of this file"
    box: Any = entry.get("bbox")
    if not _is_box(box):
        return f"bbox {box!r} must be [x, y, width, height] with width and height above 0"
    crowd = entry.get("iscrowd", 0)
    if crowd not in (0, 1):
        return f"iscrowd must be 0 or 1, not {crowd!r}"
    area = entry.get("area", box[2] * box[3])
    if isinstance(area, bool) or not isinstance(area, (int, float)) or area < 0:
        return f"area {area!r} must be a number ≥ 0"
    return {
        "image_id": entry["image_id"],
        "category_id": entry["category_id"],
        "bbox": [float(v) for v in box],
        "area": float(area),
        "iscrowd": int(crowd),
    }


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """pycocotools reports its progress with ``print``: keep it out of the audit's output."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def evaluate(coco: CocoSet, detections: list[dict[str, Any]]) -> Any:
    """COCOeval of ``detections`` (``image_id``, ``category_id``, ``bbox``, ``score``) against
    ``coco``, evaluated and accumulated."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [{"id": image.id, "file_name": image.file_name} for image in coco.images]
    categories = [{"id": cid, "name": name} for cid, name in coco.categories.items()]
    with _silenced():
        truth = COCO()
        truth.dataset = {
            "images": images,
            "annotations": copy.deepcopy(coco.annotations),
            "categories": categories,
        }
        truth.createIndex()
        if detections:
            found = truth.loadRes(copy.deepcopy(detections))
        else:  # loadRes cannot take an empty list
            found = COCO()
            found.dataset = {"images": images, "annotations": [], "categories": categories}
            found.createIndex()
        evaluator = COCOeval(truth, found, "bbox")
        evaluator.params.imgIds = [image.id for image in coco.images]
        evaluator.params.areaRng = [ALL_AREAS]
        evaluator.params.areaRngLbl = ["all"]
        evaluator.params.maxDets = [MAX_DETECTIONS]
        evaluator.evaluate()
        evaluator.accumulate()
    return evaluator


def resample(evaluator: Any, picks: np.ndarray) -> Any:
    """A copy of ``evaluator`` accumulated over the images at positions ``picks`` (into its
    sorted image ids; repeats allowed)."""
    count = len(evaluator.params.imgIds)
    categories = len(evaluator.params.catIds)
    drawn = copy.copy(evaluator)
    drawn.evalImgs = [evaluator.evalImgs[k * count + i] for k in range(categories) for i in picks]
    positions = list(range(len(picks)))
    drawn.params = copy.deepcopy(evaluator.params)
    drawn.params.imgIds = positions
    drawn._paramsEval = copy.deepcopy(evaluator._paramsEval)
    drawn._paramsEval.imgIds = positions
    with _silenced():
        drawn.accumulate()
    return drawn


def average_precision(
    evaluator: Any, *, iou: float | None = None, category: int | None = None
) -> float:
    """Mean precision over recall levels (and IoU thresholds unless ``iou``), over categories
    with ground truth (or of one ``category`` id), as COCOeval's ``summarize`` averages it;
    NaN where no category has ground truth."""
    precision = evaluator.eval["precision"][:, :, :, 0, 0]  # IoU × recall × category
    if iou is not None:
        precision = precision[np.isclose(evaluator.params.iouThrs, iou)]
    if category is not None:
        precision = precision[:, :, list(evaluator.params.catIds).index(category)]
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else math.nan


@dataclass(frozen=True)
class ImageMatches:
    """One image's boxes at IoU 0.5 among detections scored at least an operating score."""

    ground_truth: int
    """Boxes that are not crowd regions."""
    found: int
    """Of those, the ones a detection matched (COCOeval's greedy matching by score)."""
    detections: int
    """Detections at the operating score, not matched to a crowd region."""
    correct: int
    """Of those, the ones that matched a ground-truth box."""


def image_matches(evaluator: Any, operating_score: float) -> dict[int, ImageMatches]:
    """Image id → its matches at IoU 0.5 (COCOeval's first threshold) for detections with score
    ≥ ``operating_score``. Matching goes from the best score down, so the matches of these
    detections are the ones they would have alone."""
    totals: dict[int, list[int]] = {i: [0, 0, 0, 0] for i in evaluator.params.imgIds}
    for entry in evaluator.evalImgs:
        if entry is None:
            continue
        scores = dict(zip(entry["dtIds"], entry["dtScores"], strict=True))
        counts = totals[entry["image_id"]]
        for matched, ignored in zip(entry["gtMatches"][0], entry["gtIgnore"], strict=True):
            if not ignored:
                counts[0] += 1
                counts[1] += bool(matched) and scores[int(matched)] >= operating_score
        for score, matched, ignored in zip(
            entry["dtScores"], entry["dtMatches"][0], entry["dtIgnore"][0], strict=True
        ):
            if score >= operating_score and not ignored:
                counts[2] += 1
                counts[3] += bool(matched)
    return {image: ImageMatches(*counts) for image, counts in totals.items()}
