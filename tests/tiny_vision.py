"""Tiny random vision models built on the spot (real transformers code, no download), and
synthetic images drawn with PIL: solid colours in an ImageFolder, coloured squares with a COCO
annotation file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 200, 60),
    "blue": (30, 60, 220),
    "yellow": (230, 220, 40),
    "cyan": (40, 210, 220),
    "magenta": (210, 40, 200),
}
"""The classifier's labels and the colours the synthetic images are drawn in."""
SHAPE_COLOURS = ("red", "green", "blue")
"""The detector's labels: the colours of the squares in the detection images."""


def _write_card(folder: Path, license_id: str | None) -> None:
    if license_id:
        (folder / "README.md").write_text(
            f"---\nlicense: {license_id}\n---\n# tiny test model\n", encoding="utf-8"
        )


def build_vit_classifier(
    folder: Path, *, seed: int = 0, license_id: str | None = "apache-2.0"
) -> Any:
    """A 2-layer ViT (32×32 input, 8×8 patches, hidden 32) over the six ``COLOURS``, random
    weights, saved as safetensors with its image processor; returns the model."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessorPil

    folder.mkdir(parents=True, exist_ok=True)
    labels = list(COLOURS)
    torch.manual_seed(seed)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        num_hidden_layers=2,
        hidden_size=32,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = ViTForImageClassification(config).eval()
    with torch.no_grad():  # spread the logits so that predictions differ between images
        model.classifier.weight.mul_(30.0)
    model.save_pretrained(folder, safe_serialization=True)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)
    _write_card(folder, license_id)
    return model


def build_yolos_detector(
    folder: Path, *, seed: int = 0, license_id: str | None = "apache-2.0"
) -> Any:
    """A 2-layer YOLOS (pure transformers: no timm or torchvision backbone) with 8 detection
    tokens over the three ``SHAPE_COLOURS``, random weights, saved as safetensors with its image
    processor (the longer side resized to 64 pixels: YOLOS's processor rounds sides down to a
    multiple of 16, so smaller sizes turn thin images into nothing); returns the model."""
    import torch
    from transformers import YolosConfig, YolosForObjectDetection, YolosImageProcessorPil

    folder.mkdir(parents=True, exist_ok=True)
    labels = list(SHAPE_COLOURS)
    torch.manual_seed(seed)
    config = YolosConfig(
        image_size=[64, 64],
        patch_size=8,
        num_hidden_layers=2,
        hidden_size=32,
        num_attention_heads=2,
        intermediate_size=64,
        num_detection_tokens=8,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = YolosForObjectDetection(config).eval()
    with torch.no_grad():  # distinct detection tokens, spread scores: varied detections
        model.vit.embeddings.detection_tokens.normal_(0.0, 1.0)
        model.class_labels_classifier.layers[-1].weight.mul_(20.0)
    model.save_pretrained(folder, safe_serialization=True)
    YolosImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 64}).save_pretrained(folder)
    _write_card(folder, license_id)
    return model


def solid_image(colour: str, size: tuple[int, int] = (24, 24), *, shade: int = 0) -> Any:
    """A ``size`` = (width, height) image of one of ``COLOURS``, lightened by ``shade``."""
    from PIL import Image

    red, green, blue = COLOURS[colour]
    return Image.new("RGB", size, (min(255, red + shade), min(255, green + shade), blue))


def write_image_folder(root: Path, per_class: int = 3, colours: tuple[str, ...] = ()) -> Path:
    """``root/<colour>/<n>.png`` solid-colour images (``per_class`` of each colour, varied in
    size and shade); returns ``root``."""
    for colour in colours or tuple(COLOURS):
        (root / colour).mkdir(parents=True, exist_ok=True)
        for n in range(per_class):
            size = (20 + 6 * n, 24 + 4 * n)
            solid_image(colour, size, shade=10 * n).save(root / colour / f"{n}.png")
    return root


def write_coco_set(root: Path, images: int = 6) -> Path:
    """``root/images/*.png``: grey images of varied size with one to three coloured squares,
    and ``root/annotations.json`` (COCO format, boxes in x, y, width, height); returns the
    annotation file."""
    from PIL import Image, ImageDraw

    (root / "images").mkdir(parents=True, exist_ok=True)
    categories = [{"id": i + 1, "name": name} for i, name in enumerate(SHAPE_COLOURS)]
    records: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for number in range(images):
        width, height = 48 + 8 * (number % 3), 40 + 4 * (number % 2)
        image = Image.new("RGB", (width, height), (128, 128, 128))
        draw = ImageDraw.Draw(image)
        for square in range(1 + number % 3):
            category = (number + square) % len(SHAPE_COLOURS)
            x, y, side = 2 + 15 * square, 4 + 3 * square, 10 + 2 * (number % 2)
            draw.rectangle(
                (x, y, x + side - 1, y + side - 1), fill=COLOURS[SHAPE_COLOURS[category]]
            )
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": number + 1,
                    "category_id": category + 1,
                    "bbox": [x, y, side, side],
                    "area": side * side,
                    "iscrowd": 0,
                }
            )
        file_name = f"img{number:02d}.png"
        image.save(root / "images" / file_name)
        records.append({"id": number + 1, "file_name": file_name, "width": width, "height": height})
    path = root / "annotations.json"
    coco = {"images": records, "annotations": annotations, "categories": categories}
    path.write_text(json.dumps(coco, indent=1), encoding="utf-8")
    return path
