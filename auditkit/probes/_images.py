"""What the vision probes share: reading image files, checking them before a model loads, and
timing the model's own calls for an images-per-second figure."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from auditkit.engine.timing import Clock, PerfCounterClock
from auditkit.errors import UserError
from auditkit.jsonl import MAX_REPORTED
from auditkit.results import Metric

if TYPE_CHECKING:
    from PIL.Image import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
"""Files an image folder's class folders are searched for (case-insensitive)."""
CHUNK = 64
"""Images held in memory at once: a probe loads, runs and drops them a chunk at a time."""

T = TypeVar("T")
R = TypeVar("R")


def image_size_or_problem(path: Path) -> tuple[int, int] | str:
    """(width, height) of the image file at ``path``, or what is wrong with it in a few words
    (PIL checks the whole file's structure, not only its header)."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        return f"image not found: {path}"
    try:
        with Image.open(path) as image:
            size = image.size
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        return f"cannot read image {path}: {str(exc).splitlines()[0] if str(exc) else exc!r}"
    return size


def read_image(path: Path) -> Image:
    """The image at ``path`` as RGB, fully decoded (the file is closed afterwards)."""
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB")


def raise_problems(problems: list[str], where: Path) -> None:
    """``UserError`` with the first ``MAX_REPORTED`` problems (and how many more), if any."""
    if not problems:
        return
    shown = problems[:MAX_REPORTED]
    if len(problems) > MAX_REPORTED:
        shown.append(f"{where}: … and {len(problems) - MAX_REPORTED} more problems")
    raise UserError(shown)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ModelTimer:
    """Adds up the time of a model's calls, read on the engine's own clock where it has one
    (which waits for an accelerator's queued work before each reading)."""

    def __init__(self, engine: object) -> None:
        clock = getattr(engine, "clock", None)
        self.clock: Clock = clock() if callable(clock) else PerfCounterClock()
        self.seconds = 0.0
        self.images = 0

    def call(self, images: Sequence[Image], run: Callable[[Sequence[Image]], list[R]]) -> list[R]:
        """``run(images)``, timed."""
        self.clock.sync()
        start = self.clock.now()
        results = run(images)
        self.clock.sync()
        self.seconds += self.clock.now() - start
        self.images += len(images)
        return results

    def metric(self) -> Metric:
        return Metric(
            name="images_per_second",
            value=self.images / self.seconds if self.seconds > 0 else math.nan,
            n=self.images,
            direction="higher",
            description="images through the model per second of its calls in this probe "
            "(preprocessing and forward pass; reading files excluded)",
            unit="images/s",
        )
