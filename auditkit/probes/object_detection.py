"""``object_detection``: COCO mean average precision of an object detector on the user's
annotated images, through pycocotools' ``COCOeval``.

Data is a COCO annotation file (``images``, ``annotations`` with ``bbox`` = x, y, width, height
in pixels, ``categories``) and the folder its ``file_name`` paths are relative to. Every entry and
every image is checked before any model loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from auditkit.engine.vision import Detection, ObjectDetector
from auditkit.probes._coco import (
    CocoSet,
    ImageMatches,
    average_precision,
    evaluate,
    image_matches,
    read_coco,
    resample,
)
from auditkit.probes._images import (
    ModelTimer,
    chunks,
    image_size_or_problem,
    raise_problems,
    read_image,
)
from auditkit.probes._rates import mean
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

DEFAULT_RESAMPLES = 200


class ObjectDetectionSpec(ProbeSpec):
    kind: Literal["object_detection"]
    annotations: SuitePath = Field(description="COCO-format annotation file (JSON).")
    images: SuitePath | None = Field(
        None,
        description="Folder the images' file_name paths are relative to; default: the "
        "annotation file's folder.",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="Category name → the model's label (its id2label name), for categories "
        "spelled differently; unmapped names must be the model's own.",
    )
    min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="Detections scored below this are not evaluated."
    )
    operating_score: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="The score a deployment would show detections from: recall_50 and "
        "precision_50 count the detections at or above it.",
    )
    bootstrap_resamples: int = Field(
        DEFAULT_RESAMPLES,
        ge=20,
        description="Resamples of the images for the intervals of the AP metrics (each re-runs "
        "COCOeval's accumulation).",
    )
    limit: int | None = Field(None, ge=1, description="Use only the first N images of the file.")


@register_probe
class ObjectDetection(Probe[ObjectDetectionSpec]):
    """COCO average precision of an object detector, overall and per category.

    Detections (score ≥ ``min_score``) whose label maps to a category of the data (``label_map``)
    are evaluated by pycocotools' ``COCOeval`` on bounding boxes, every object size, the 100
    best-scored detections per image; detections with other labels are dropped (counted in each
    sample's details).

    - ``map_50_95`` = COCO's AP: precision averaged over 101 recall levels, the IoU thresholds
      0.50, 0.55 … 0.95 and the categories with ground truth. Higher is better; [0, 1];
      percentile bootstrap over images (``bootstrap_resamples`` resamples, 200 by default, each
      re-accumulating COCOeval's per-image evaluations of the drawn images).
    - ``map_50`` = the same at IoU 0.50 only (COCO's AP50). Higher is better; [0, 1]; bootstrap
      as above.
    - ``ap_50_95`` per category (metric ``group`` = the category's name) = AP over IoU
      thresholds and recall levels for that category, for categories with ground truth. Higher
      is better; [0, 1]; bootstrap as above.
    - ``recall_50`` = mean over images with ground truth of the share of their boxes matched at
      IoU ≥ 0.5 by a detection scored ≥ ``operating_score``. Higher is better; [0, 1]; percentile
      bootstrap over images (1000 resamples); per item ``recall_50``.
    - ``precision_50`` = mean over images with a detection scored ≥ ``operating_score`` of the
      share of those detections that match a ground-truth box at IoU ≥ 0.5. Higher is better;
      [0, 1]; bootstrap over images (1000 resamples); per item ``precision_50``.
    - ``images_per_second`` = images / seconds spent in the model's calls during this probe
      (preprocessing, forward pass, post-processing; not reading files). Higher is better;
      descriptive, no interval.
    """

    Spec = ObjectDetectionSpec
    tasks = ("object-detection",)
    charts = ("per_group",)  # average precision per class

    def known_metrics(self) -> dict[str, bool]:
        return {
            "map_50_95": False,
            "map_50": False,
            "ap_50_95": False,
            "recall_50": True,
            "precision_50": True,
            "images_per_second": False,
        }

    @property
    def images_root(self) -> Path:
        return self.spec.images or self.spec.annotations.parent

    def coco(self) -> CocoSet:
        """The annotation file, restricted to the images this run uses (``limit``)."""
        return read_coco(self.spec.annotations, self.images_root).first(self.spec.limit)

    def data_files(self) -> list[Path]:
        return [self.spec.annotations, *sorted({image.path for image in self.coco().images})]

    def check_data(self) -> None:
        problems = []
        for image in self.coco().images:
            found = image_size_or_problem(image.path)
            if isinstance(found, str):
                problems.append(f"{image.where}: {found}")
            elif (image.width, image.height) not in ((None, None), found):
                problems.append(
                    f"{image.where}: declared {image.width}×{image.height} pixels, but "
                    f"{image.path} is {found[0]}×{found[1]}"
                )
        raise_problems(problems, self.spec.annotations)

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        detector = ctx.engine_as(ObjectDetector, self.kind)
        coco = self.coco()
        category_of = self._category_ids(detector, coco)
        ctx.set_total(len(coco.images))
        timer = ModelTimer(detector)
        found: list[list[Detection]] = []
        for chunk in chunks(coco.images):
            pictures = [read_image(image.path) for image in chunk]
            found += timer.call(
                pictures,
                lambda batch: detector.detect(
                    batch, progress=ctx.advance, min_score=self.spec.min_score
                ),
            )
        results = [
            {
                "image_id": image.id,
                "category_id": category_of[d.label],
                "bbox": [d.x, d.y, d.width, d.height],
                "score": d.score,
            }
            for image, detections in zip(coco.images, found, strict=True)
            for d in detections
            if d.label in category_of
        ]
        evaluator = evaluate(coco, results)
        matches = image_matches(evaluator, self.spec.operating_score)
        samples = self._samples(coco, found, matches, category_of)
        metrics = self._ap_metrics(coco, evaluator, ctx.seed)
        for name, words in (
            ("recall_50", "share of an image's boxes found at the operating score, IoU ≥ 0.5"),
            (
                "precision_50",
                "share of an image's detections at the operating score that are right",
            ),
        ):
            values = [s.scores[name] for s in samples if name in s.scores]
            metrics.append(
                mean(
                    name,
                    values,
                    seed=ctx.seed,
                    unit="fraction",
                    direction="higher",
                    description=f"{words}, mean over images",
                    per_item=name,
                )
            )
        metrics.append(timer.metric())
        return ProbeOutput(metrics, samples)

    def _category_ids(self, detector: ObjectDetector, coco: CocoSet) -> dict[str, int]:
        """Model label → the id of the data category it stands for."""
        mapped = {
            self.spec.label_map.get(name, name): category
            for category, name in coco.categories.items()
        }
        if len(mapped) < len(coco.categories):
            raise ValueError("label_map maps two categories to the same model label")
        known = detector.labels
        unknown = sorted(set(mapped) - set(known))
        if unknown:
            shown = ", ".join(known[:30]) + (f" … ({len(known)} in all)" if len(known) > 30 else "")
            raise ValueError(
                f"categories {', '.join(unknown)} are not labels of {detector.name} ({shown}); "
                "map them with label_map"
            )
        return mapped

    def _ap_metrics(self, coco: CocoSet, evaluator: Any, seed: int) -> list[Metric]:
        with_truth = [
            (category, name)
            for category, name in coco.categories.items()
            if not np.isnan(average_precision(evaluator, category=category))
        ]

        def statistics(e: Any) -> list[float]:
            return [
                average_precision(e),
                average_precision(e, iou=0.5),
                *(average_precision(e, category=category) for category, _ in with_truth),
            ]

        rng = np.random.default_rng(seed)
        count = len(coco.images)
        draws = np.array(
            [
                statistics(resample(evaluator, rng.integers(0, count, size=count)))
                for _ in range(self.spec.bootstrap_resamples)
            ]
        )
        bounds = [_percentile_interval(column) for column in draws.T]
        described = [
            ("map_50_95", None, "COCO AP: mean over IoU 0.50:0.95, recall levels, categories"),
            ("map_50", None, "COCO AP50: mean over recall levels and categories at IoU 0.50"),
            *(
                ("ap_50_95", name, f"AP over IoU 0.50:0.95 and recall levels for {name}")
                for _, name in with_truth
            ),
        ]
        return [
            Metric(
                name=name,
                value=value,
                ci_low=low,
                ci_high=high,
                n=count,
                direction="higher",
                interval="bootstrap",
                interval_detail=f"{self.spec.bootstrap_resamples} resamples of the images",
                description=description,
                group=group,
                unit="fraction",
            )
            for (name, group, description), value, (low, high) in zip(
                described, statistics(evaluator), bounds, strict=True
            )
        ]

    def _samples(
        self,
        coco: CocoSet,
        found: list[list[Detection]],
        matches: dict[int, ImageMatches],
        category_of: dict[str, int],
    ) -> list[Sample]:
        truth = coco.ground_truth_counts()
        operating = self.spec.operating_score
        samples = []
        for image, detections in zip(coco.images, found, strict=True):
            kept = [d for d in detections if d.label in category_of]
            shown = [d for d in kept if d.score >= operating]
            match = matches[image.id]
            scores: dict[str, float] = {}
            if match.ground_truth:
                scores["recall_50"] = match.found / match.ground_truth
            if match.detections:
                scores["precision_50"] = match.correct / match.detections
            samples.append(
                Sample(
                    item_id=image.file_name,
                    input=image.file_name,
                    output="; ".join(f"{d.label} {d.score:.2f}" for d in shown) or "(none)",
                    target=f"{truth[image.id]} objects",
                    scores=scores,
                    details={
                        "detections": [
                            {
                                "label": d.label,
                                "score": d.score,
                                "box": [d.x, d.y, d.width, d.height],
                            }
                            for d in shown
                        ],
                        "detections_evaluated": len(kept),
                        "detections_dropped": len(detections) - len(kept),
                        "ground_truth": truth[image.id],
                    },
                )
            )
        return samples


def _percentile_interval(draws: np.ndarray) -> tuple[float | None, float | None]:
    """The 2.5th and 97.5th percentiles of the resampled values that exist (a category can be
    absent from a resample); no interval when none does."""
    values = draws[~np.isnan(draws)]
    if not values.size:
        return None, None
    low, high = np.quantile(values, [0.025, 0.975])
    return float(low), float(high)
