"""``image_classification``: accuracy, per-class recall and calibration of an image classifier
on the user's labelled images.

Data is an image folder (``root/<label>/*.png|jpg``) or a table of ``path,label`` (CSV with a
header, or JSONL), paths relative to the table. Every file is checked before any model loads.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from auditkit.engine.vision import ImageClassifier
from auditkit.errors import UserError
from auditkit.files import read_user_text
from auditkit.probes._images import (
    IMAGE_SUFFIXES,
    ModelTimer,
    chunks,
    image_size_or_problem,
    raise_problems,
    read_image,
)
from auditkit.probes._json_lines import json_object_lines
from auditkit.probes._rates import bootstrapped, by_group, proportion
from auditkit.probes.base import (
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.results import Metric
from auditkit.stats import BOOTSTRAP_RESAMPLES, expected_calibration_error

CALIBRATION_BINS = 15
TOP_K = 5


@dataclass(frozen=True)
class LabelledImage:
    item_id: str
    """The image's path relative to the data root or table: stable across models and machines."""
    path: Path
    label: str
    where: str
    """Where the item is written: ``TABLE:LINE``, or the image's path in a folder."""


class ImageClassificationSpec(ProbeSpec):
    kind: Literal["image_classification"]
    data: SuitePath = Field(
        description="An image folder (root/<label>/*.png|jpg, one folder per class) or a CSV "
        "(header 'path,label') or JSONL ({path, label}) table; paths relative to the table."
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="Data label → the model's label (its id2label name), for labels spelled "
        "differently; unmapped labels must be the model's own.",
    )
    limit: int | None = Field(
        None,
        ge=1,
        description="Use only the first N images (an image folder is read class by class in "
        "turn, so a limit keeps the classes balanced).",
    )


@register_probe
class ImageClassification(Probe[ImageClassificationSpec]):
    """Top-1 and top-5 accuracy, per-class recall and calibration of an image classifier.

    Each image's gold label is mapped to a model label (``label_map``); the model gives a
    probability p_l for every label l it has (softmax over its logits).

    - ``top1_accuracy`` = share of images whose most probable label is the gold one. Higher is
      better; [0, 1]; 95% Wilson interval; per item ``correct``.
    - ``top5_accuracy`` = share of images whose gold label is among the 5 most probable (only for
      models with at least 5 labels). Higher is better; [0, 1]; Wilson; per item
      ``correct_top5``.
    - ``recall`` per class (metric ``group`` = the data's label) = share of that class's images
      classified correctly (top-1). Higher is better; [0, 1]; Wilson; per item ``correct``.
    - ``macro_recall`` = mean of the per-class recalls over the classes in the data. Higher is
      better; [0, 1]; percentile bootstrap over images (1000 resamples; a class missing from a
      resample is left out of that resample's mean).
    - ``ece`` = expected calibration error of the top-1 probability: sum over 15 equal-width bins
      of [0, 1] of (n_b / n) |accuracy_b − mean top-1 probability_b|. Lower is better; [0, 1];
      percentile bootstrap over images (1000 resamples).
    - ``images_per_second`` = images classified / seconds spent in the model's calls during this
      probe (preprocessing and forward pass, not reading files). Higher is better; descriptive,
      no interval; a throughput at the engine's batch size, not a controlled latency measurement
      (the ``latency`` probe is that).
    """

    Spec = ImageClassificationSpec
    tasks = ("image-classification",)
    charts = ("per_group",)  # recall per class

    def known_metrics(self) -> dict[str, bool]:
        return {
            "top1_accuracy": True,
            "top5_accuracy": True,
            "recall": True,
            "macro_recall": False,
            "ece": False,
            "images_per_second": False,
        }

    def data_files(self) -> list[Path]:
        table = [] if self.spec.data.is_dir() else [self.spec.data]
        return table + sorted({item.path for item in self.items()})

    def check_data(self) -> None:
        items = self.items()
        problems = [
            f"{item.where}: {found}"
            for item in items
            if isinstance(found := image_size_or_problem(item.path), str)
        ]
        raise_problems(problems, self.spec.data)

    def items(self) -> list[LabelledImage]:
        """The images this run uses, in order (``limit`` applied)."""
        data = self.spec.data
        if data.is_dir():
            items = _image_folder(data)
        elif data.suffix.lower() == ".csv":
            items = _csv_table(data)
        elif data.suffix.lower() == ".jsonl":
            items = _jsonl_table(data)
        else:
            raise UserError(
                f"{data}: image classification data is an image folder, a .csv or a .jsonl table"
            )
        return items[: self.spec.limit] if self.spec.limit else items

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        classifier = ctx.engine_as(ImageClassifier, self.kind)
        items = self.items()
        gold = [self.spec.label_map.get(item.label, item.label) for item in items]
        _check_labels(classifier, gold)
        ctx.set_total(len(items))
        timer = ModelTimer(classifier)
        probabilities: list[dict[str, float]] = []
        for chunk in chunks(items):
            images = [read_image(item.path) for item in chunk]
            probabilities += timer.call(
                images, lambda batch: classifier.classify_images(batch, progress=ctx.advance)
            )
        with_top5 = len(classifier.labels) >= TOP_K
        samples: list[Sample] = []
        correct, correct_top5, confidence = [], [], []
        for item, target, probs in zip(items, gold, probabilities, strict=True):
            ranked = sorted(probs.items(), key=lambda pair: -pair[1])
            top = [label for label, _ in ranked[:TOP_K]]
            correct.append(top[0] == target)
            correct_top5.append(target in top)
            confidence.append(ranked[0][1])
            scores = {"correct": float(correct[-1]), "p_gold": probs[target]}
            scores["confidence"] = confidence[-1]
            if with_top5:
                scores["correct_top5"] = float(correct_top5[-1])
            samples.append(
                Sample(
                    item_id=item.item_id,
                    input=item.item_id,
                    output=top[0],
                    target=item.label,
                    scores=scores,
                    details={
                        "path": str(item.path),
                        "model_label": target,
                        "top5": [[label, p] for label, p in ranked[:TOP_K]],
                    },
                )
            )
        metrics = [
            proportion(
                "top1_accuracy",
                correct,
                direction="higher",
                description="share of images whose most probable label is the gold one",
                per_item="correct",
            )
        ]
        if with_top5:
            metrics.append(
                proportion(
                    "top5_accuracy",
                    correct_top5,
                    direction="higher",
                    description="share of images whose gold label is among the 5 most probable",
                    per_item="correct_top5",
                )
            )
        labels = [item.label for item in items]
        metrics += _recall_metrics(labels, correct, seed=ctx.seed)
        metrics.append(_ece_metric(np.array(confidence), np.array(correct, float), ctx.seed))
        metrics.append(timer.metric())
        return ProbeOutput(metrics, samples)


def _check_labels(classifier: ImageClassifier, gold: list[str]) -> None:
    known = classifier.labels
    unknown = sorted(set(gold) - set(known))
    if unknown:
        shown = ", ".join(known[:30]) + (f" … ({len(known)} in all)" if len(known) > 30 else "")
        raise ValueError(
            f"data labels {', '.join(unknown)} are not labels of {classifier.name} ({shown}); "
            "map them with label_map"
        )


def _recall_metrics(labels: list[str], correct: list[bool], *, seed: int) -> list[Metric]:
    per_class = by_group(labels, correct)
    metrics = [
        proportion(
            "recall",
            hits,
            direction="higher",
            description=f"share of {label} images classified as {label}",
            per_item="correct",
            group=label,
        )
        for label, hits in per_class.items()
    ]
    classes = np.unique(np.array(labels), return_inverse=True)[1]
    hits = np.array(correct, dtype=float)
    count = int(classes.max()) + 1 if classes.size else 0

    def macro(idx: np.ndarray) -> float:
        totals = np.bincount(classes[idx], minlength=count)
        right = np.bincount(classes[idx], weights=hits[idx], minlength=count)
        present = totals > 0
        return float((right[present] / totals[present]).mean())

    metrics.append(
        bootstrapped(
            "macro_recall",
            macro,
            len(labels),
            seed=seed,
            unit="fraction",
            direction="higher",
            description="mean of the per-class recalls",
            interval_detail=f"{BOOTSTRAP_RESAMPLES} resamples",
        )
    )
    return metrics


def _ece_metric(confidence: np.ndarray, hits: np.ndarray, seed: int) -> Metric:
    return bootstrapped(
        "ece",
        lambda idx: expected_calibration_error(confidence[idx], hits[idx], CALIBRATION_BINS),
        int(confidence.size),
        seed=seed,
        unit="fraction",
        direction="lower",
        description=f"expected calibration error of the top-1 probability, {CALIBRATION_BINS} bins",
        interval_detail=f"{BOOTSTRAP_RESAMPLES} resamples",
    )


def _image_folder(root: Path) -> list[LabelledImage]:
    """One class per sub-folder (sorted by name); the images of each class sorted by name, and
    the classes taken in turn: first image of every class, then the second…"""
    problems: list[str] = []
    by_class: list[list[LabelledImage]] = []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            problems.append(
                f"{folder}: class {folder.name!r} has no images ({', '.join(IMAGE_SUFFIXES)})"
            )
        by_class.append(
            [
                LabelledImage(path.relative_to(root).as_posix(), path, folder.name, str(path))
                for path in files
            ]
        )
    if not folders:
        problems.append(f"{root}: no class folders (expected {root}/<label>/<image>.png)")
    raise_problems(problems, root)
    longest = max(len(images) for images in by_class)
    return [images[i] for i in range(longest) for images in by_class if i < len(images)]


def _labelled(table: Path, line: int, path: object, label: object) -> LabelledImage | str:
    """The item of one table row, or what is wrong with the row."""
    if not isinstance(path, str) or not path.strip():
        return f"{table}:{line}: 'path' must be a non-empty text"
    if not isinstance(label, str) or not label.strip():
        return f"{table}:{line}: 'label' must be a non-empty text"
    return LabelledImage(path, table.parent / path, label, f"{table}:{line}")


def _rows_or_problems(table: Path, rows: list[LabelledImage | str]) -> list[LabelledImage]:
    problems = [row for row in rows if isinstance(row, str)]
    items = [row for row in rows if isinstance(row, LabelledImage)]
    if not items and not problems:
        problems.append(f"{table}: no images listed")
    raise_problems(problems, table)
    return items


def _csv_table(table: Path) -> list[LabelledImage]:
    reader = csv.DictReader(read_user_text(table).splitlines())
    missing = [name for name in ("path", "label") if name not in (reader.fieldnames or [])]
    if missing:
        raise UserError(f"{table}:1: the header has no column {' or '.join(missing)}")
    rows: list[LabelledImage | str] = []
    for row in reader:
        if any(value for value in row.values()):
            rows.append(_labelled(table, reader.line_num, row.get("path"), row.get("label")))
    return _rows_or_problems(table, rows)


def _jsonl_table(table: Path) -> list[LabelledImage]:
    rows: list[LabelledImage | str] = [
        f"{table}:{line}{record}"
        if isinstance(record, str)
        else _labelled(table, line, record.get("path"), record.get("label"))
        for line, record in json_object_lines(
            read_user_text(table), "expected an object with path and label"
        )
    ]
    return _rows_or_problems(table, rows)
