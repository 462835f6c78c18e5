"""The vision interfaces: image classification and object detection.

Engines: ``engine/vision_hf.py`` (transformers ``AutoModelForImageClassification`` and
``AutoModelForObjectDetection``). Probes see only ``ImageClassifier`` and ``ObjectDetector``.
Images are RGB ``PIL.Image.Image`` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from auditkit.engine.base import ProgressCallback, describe_interface

if TYPE_CHECKING:
    from PIL.Image import Image


@runtime_checkable
class ImageClassifier(Protocol):
    """What probes may ask of an image classifier."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> list[str]:
        """Output labels in the model's order (its ``id2label``)."""
        ...

    def classify_images(
        self, images: Sequence[Image], progress: ProgressCallback | None = None
    ) -> list[dict[str, float]]:
        """Per image, the probability of every label (softmax over the model's logits)."""
        ...


@dataclass(frozen=True)
class Detection:
    """One detected object, its box in pixels of the input image, COCO style."""

    x: float
    """Left edge."""
    y: float
    """Top edge."""
    width: float
    height: float
    label: str
    score: float
    """The model's confidence in [0, 1]."""


@runtime_checkable
class ObjectDetector(Protocol):
    """What probes may ask of an object detector."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> list[str]:
        """Every label the detector can output (its ``id2label``)."""
        ...

    def detect(
        self,
        images: Sequence[Image],
        progress: ProgressCallback | None = None,
        *,
        min_score: float = 0.0,
    ) -> list[list[Detection]]:
        """Per image, its detections with score ≥ ``min_score``, best first."""
        ...


describe_interface(ImageClassifier, "an image classifier (task: image-classification)")
describe_interface(ObjectDetector, "an object detector (task: object-detection)")
