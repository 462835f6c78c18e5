"""Image classifiers and object detectors through transformers (``ImageClassifier``,
``ObjectDetector``).

Images go through the checkpoint's own image processor, loaded with its PIL backend: it needs no
torchvision and gives the same pixels on every machine. Each image is preprocessed on its own and
only images whose processed tensors have the same shape share a forward pass, so no image is ever
padded to a neighbour's size: a model that ignores the padding mask (YOLOS does) sees the same
pixels batched or alone, and an image's result does not depend on the batch it was in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from auditkit.engine.base import ProgressCallback, TimedBatch, config_labels
from auditkit.engine.timing import Clock
from auditkit.engine.torch_resources import TorchResources
from auditkit.engine.vision import Detection

if TYPE_CHECKING:
    import torch
    from PIL.Image import Image

__all__ = ["HFImageClassifier", "HFObjectDetector", "input_size", "synthetic_images"]

DEFAULT_INPUT_SIZE = 224
"""Side of the synthetic images when neither the processor nor the config names a size."""

ResultT = TypeVar("ResultT")


class _HFVisionModel(TorchResources):
    """What both engines share: labels, preprocessing in shape-uniform batches, timing."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        name: str,
        batch_size: int = 32,
        bytes_on_disk: int | None = None,
    ) -> None:
        self.model = model.eval()
        self.processor = processor
        self._name = name
        self.batch_size = batch_size
        self.bytes_on_disk = bytes_on_disk
        self._labels = config_labels(model.config)
        accepted = inspect.signature(model.forward).parameters
        self._inputs = {key for key in ("pixel_values", "pixel_mask") if key in accepted}

    @property
    def name(self) -> str:
        return self._name

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    def _batches(
        self, images: Sequence[Image], batch_size: int
    ) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
        """(indices into ``images``, model inputs) for at most ``batch_size`` images at a time,
        each batch holding images whose processed tensors share one shape."""
        import torch

        dtype = next(self.model.parameters()).dtype
        for start in range(0, len(images), batch_size):
            window = range(start, min(start + batch_size, len(images)))
            processed = {
                i: self.processor(images=images[i].convert("RGB"), return_tensors="pt")
                for i in window
            }
            by_shape: dict[tuple[int, ...], list[int]] = {}
            for i, features in processed.items():
                by_shape.setdefault(tuple(features["pixel_values"].shape), []).append(i)
            for indices in by_shape.values():
                inputs = {
                    key: torch.cat([processed[i][key] for i in indices]).to(self.device)
                    for key in self._inputs
                    if key in processed[indices[0]]
                }
                inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
                yield indices, inputs

    def _run(
        self,
        images: Sequence[Image],
        batch_size: int,
        progress: ProgressCallback | None,
        decode: Callable[[Any, list[int]], list[ResultT]],
    ) -> list[ResultT]:
        """``decode(outputs, indices)`` of every batch, back in the order of ``images``."""
        import torch

        results: dict[int, ResultT] = {}
        for indices, inputs in self._batches(images, batch_size):
            with torch.inference_mode():
                outputs = self.model(**inputs)
            for key, value in outputs.items():  # half-precision outputs are read in float32
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    outputs[key] = value.float()
            results.update(zip(indices, decode(outputs, indices), strict=True))
            if progress:
                progress(len(indices))
        return [results[i] for i in range(len(images))]

    def _call(self, images: Sequence[Image], batch_size: int) -> object:
        """The engine's main call on ``images`` in batches of ``batch_size``."""
        raise NotImplementedError

    def timed_batch(self, batch_size: int, clock: Clock, *, seed: int = 0) -> TimedBatch:
        """One call on ``batch_size`` seeded noise images at the processor's input size, in one
        forward pass; preprocessing is part of the time."""
        from auditkit.engine.hf_perf import timed_call

        images = synthetic_images(batch_size, input_size(self.processor, self.model.config), seed)
        _, start, end = timed_call(
            clock,
            lambda: self._call(images, batch_size),
            f"a batch of {batch_size} images does not fit in device memory",
        )
        return TimedBatch(batch_size=batch_size, units=float(batch_size), seconds=end - start)


class HFImageClassifier(_HFVisionModel):
    """An ``ImageClassifier`` over a transformers ``AutoModelForImageClassification`` model:
    the softmax of its logits over ``id2label``."""

    def classify_images(
        self, images: Sequence[Image], progress: ProgressCallback | None = None
    ) -> list[dict[str, float]]:
        return self._classify(images, self.batch_size, progress)

    def _call(self, images: Sequence[Image], batch_size: int) -> object:
        return self._classify(images, batch_size, None)

    def _classify(
        self, images: Sequence[Image], batch_size: int, progress: ProgressCallback | None
    ) -> list[dict[str, float]]:
        import torch

        def decode(outputs: Any, indices: list[int]) -> list[dict[str, float]]:
            probabilities = torch.softmax(outputs.logits, dim=-1).tolist()
            return [dict(zip(self._labels, row, strict=True)) for row in probabilities]

        return self._run(images, batch_size, progress, decode)


class HFObjectDetector(_HFVisionModel):
    """An ``ObjectDetector`` over a transformers ``AutoModelForObjectDetection`` model: its
    processor's ``post_process_object_detection`` at each image's own size, boxes turned from
    corners into COCO's ``x, y, width, height``."""

    def detect(
        self,
        images: Sequence[Image],
        progress: ProgressCallback | None = None,
        *,
        min_score: float = 0.0,
    ) -> list[list[Detection]]:
        return self._detect(images, self.batch_size, progress, min_score)

    def _call(self, images: Sequence[Image], batch_size: int) -> object:
        return self._detect(images, batch_size, None, 0.0)

    def _detect(
        self,
        images: Sequence[Image],
        batch_size: int,
        progress: ProgressCallback | None,
        min_score: float,
    ) -> list[list[Detection]]:
        def decode(outputs: Any, indices: list[int]) -> list[list[Detection]]:
            sizes = [(images[i].height, images[i].width) for i in indices]
            # Post-processors keep scores strictly above their threshold: keep every query and
            # apply ``min_score`` (inclusive) here.
            found = self.processor.post_process_object_detection(
                outputs, threshold=-1.0, target_sizes=sizes
            )
            return [self._detections(one, min_score) for one in found]

        return self._run(images, batch_size, progress, decode)

    def _detections(self, found: dict[str, Any], min_score: float) -> list[Detection]:
        detections = [
            Detection(
                x=x0,
                y=y0,
                width=x1 - x0,
                height=y1 - y0,
                label=self._labels[label] if 0 <= label < len(self._labels) else f"LABEL_{label}",
                score=score,
            )
            for score, label, (x0, y0, x1, y1) in zip(
                found["scores"].tolist(),
                found["labels"].tolist(),
                found["boxes"].tolist(),
                strict=True,
            )
            if score >= min_score
        ]
        return sorted(detections, key=lambda d: -d.score)


def input_size(processor: Any, config: Any) -> tuple[int, int]:
    """(height, width) the processor makes of an image: its crop when it crops, else its
    ``size`` (a square of ``shortest_edge`` when it keeps the aspect ratio), else the config's
    ``image_size``."""
    size = getattr(processor, "size", None)
    if getattr(processor, "do_center_crop", False) and getattr(processor, "crop_size", None):
        size = processor.crop_size
    fields = {key: _get(size, key) for key in ("height", "width", "shortest_edge")}
    if isinstance(fields["height"], int) and isinstance(fields["width"], int):
        return fields["height"], fields["width"]
    if isinstance(fields["shortest_edge"], int):
        return fields["shortest_edge"], fields["shortest_edge"]
    image_size = getattr(config, "image_size", None)
    if isinstance(image_size, int):
        return image_size, image_size
    if isinstance(image_size, (list, tuple)) and len(image_size) == 2:
        return int(image_size[0]), int(image_size[1])
    return DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE


def _get(size: Any, key: str) -> Any:
    if isinstance(size, dict):
        return size.get(key)
    return getattr(size, key, None)


def synthetic_images(count: int, size: tuple[int, int], seed: int) -> list[Image]:
    """``count`` RGB images of uniform noise, ``size`` = (height, width), drawn from ``seed``."""
    import numpy as np
    from PIL import Image as PILImage

    rng = np.random.default_rng(seed)
    height, width = size
    return [
        PILImage.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))
        for _ in range(count)
    ]
