"""Vision models through transformers: a tiny ViT classifier and a tiny YOLOS detector load with
their task read from config.json, give what a plain transformers forward gives, and give it
whatever the batch."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from auditkit.engine.base import (
    BatchTimingModel,
    LanguageModel,
    ResourceModel,
    WrongModelTask,
    engine_as,
)
from auditkit.engine.timing import PerfCounterClock
from auditkit.engine.vision import ImageClassifier, ObjectDetector
from auditkit.engine.vision_hf import HFImageClassifier, HFObjectDetector, input_size
from auditkit.errors import ModelLoadError
from auditkit.models.loader import LoadedModel, load_model
from auditkit.models.spec import ModelSpec
from tests.tiny_vision import (
    COLOURS,
    SHAPE_COLOURS,
    build_vit_classifier,
    build_yolos_detector,
    solid_image,
)


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tiny-vit"
    build_vit_classifier(folder, seed=0)
    return folder


@pytest.fixture(scope="module")
def yolos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tiny-yolos"
    build_yolos_detector(folder, seed=2)
    return folder


def load(folder: Path, **fields: Any) -> LoadedModel:
    spec = ModelSpec.model_validate(
        {"id": folder.name, "source": f"hf:{folder}", **fields},
        context={"base_dir": folder.parent},
    )
    return load_model(spec, "cpu")


def images() -> list[Any]:
    """Images of several sizes and aspect ratios (the detector's processor keeps the ratio)."""
    from PIL import Image, ImageDraw

    found = [solid_image(colour, (20 + 7 * i, 30 - 2 * i)) for i, colour in enumerate(COLOURS)]
    scene = Image.new("RGB", (48, 40), (128, 128, 128))
    ImageDraw.Draw(scene).rectangle((4, 6, 20, 22), fill=COLOURS["blue"])
    return [*found, scene, scene.resize((40, 48))]


def test_a_classifier_loads_with_its_task_read_from_its_config(vit_dir: Path) -> None:
    loaded = load(vit_dir)
    assert loaded.spec.task == "image-classification"
    engine = loaded.engine
    assert isinstance(engine, HFImageClassifier)
    assert isinstance(engine, ImageClassifier)
    assert isinstance(engine, BatchTimingModel) and isinstance(engine, ResourceModel)
    assert not isinstance(engine, LanguageModel)
    assert engine.labels == list(COLOURS)
    info = loaded.info
    assert (info.architecture, info.task, info.dtype, info.license) == (
        "ViTForImageClassification",
        "image-classification",
        "float32",
        "apache-2.0",
    )
    assert {Path(f.path).name for f in info.files} == {
        "model.safetensors",
        "preprocessor_config.json",
    }
    assert info.parameters == sum(p.numel() for p in engine.model.parameters())
    with pytest.raises(
        WrongModelTask, match=r"boxes needs an object detector.*tiny-vit is an image"
    ):
        engine_as(engine, ObjectDetector, "boxes")
    assert "torchvision" not in sys.modules


def test_classifier_probabilities_match_a_plain_forward(vit_dir: Path) -> None:
    import torch
    from transformers import AutoModelForImageClassification, ViTImageProcessorPil

    engine = load(vit_dir).engine
    pictures = images()
    probabilities = engine.classify_images(pictures)
    assert all(sum(p.values()) == pytest.approx(1.0) for p in probabilities)
    assert len({max(p, key=p.__getitem__) for p in probabilities}) > 1

    model = AutoModelForImageClassification.from_pretrained(vit_dir).eval()
    processor = ViTImageProcessorPil.from_pretrained(vit_dir)
    with torch.no_grad():
        logits = model(**processor(images=pictures, return_tensors="pt")).logits
    expected = torch.softmax(logits, dim=-1).tolist()
    for found, row in zip(probabilities, expected, strict=True):
        assert [found[label] for label in COLOURS] == pytest.approx(row, abs=1e-5)


def test_classifier_results_do_not_depend_on_the_batch(vit_dir: Path) -> None:
    engine = load(vit_dir).engine
    pictures = images()
    together = engine.classify_images(pictures)
    engine.batch_size = 1
    alone = engine.classify_images(pictures)
    for a, b in zip(together, alone, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_a_detector_loads_and_matches_a_plain_forward(yolos_dir: Path) -> None:
    import torch
    from transformers import AutoModelForObjectDetection, YolosImageProcessorPil

    loaded = load(yolos_dir)
    assert loaded.spec.task == "object-detection"
    engine = loaded.engine
    assert isinstance(engine, HFObjectDetector) and isinstance(engine, ObjectDetector)
    assert engine.labels == list(SHAPE_COLOURS)
    assert loaded.info.architecture == "YolosForObjectDetection"
    pictures = images()
    found = engine.detect(pictures)
    assert all(len(one) == 8 for one in found)  # one per detection token at min_score 0
    assert all(
        [d.score for d in one] == sorted((d.score for d in one), reverse=True) for one in found
    )

    model = AutoModelForObjectDetection.from_pretrained(yolos_dir).eval()
    processor = YolosImageProcessorPil.from_pretrained(yolos_dir)
    for picture, detections in zip(pictures, found, strict=True):
        with torch.no_grad():
            outputs = model(**processor(images=picture, return_tensors="pt"))
        [raw] = processor.post_process_object_detection(
            outputs, threshold=0.0, target_sizes=[(picture.height, picture.width)]
        )
        expected = sorted(
            zip(raw["scores"].tolist(), raw["labels"].tolist(), raw["boxes"].tolist(), strict=True),
            key=lambda row: -row[0],
        )
        for detection, (score, label, (x0, y0, x1, y1)) in zip(detections, expected, strict=True):
            assert detection.score == pytest.approx(score, abs=1e-5)
            assert detection.label == SHAPE_COLOURS[label]
            box = (detection.x, detection.y, detection.width, detection.height)
            assert box == pytest.approx((x0, y0, x1 - x0, y1 - y0), abs=1e-3)
    best = max(d.score for one in found for d in one)
    assert all(d.score >= best for one in engine.detect(pictures, min_score=best) for d in one)


def test_detections_do_not_depend_on_the_batch(yolos_dir: Path) -> None:
    # YOLOS ignores the padding mask: only same-size images may share a forward pass.
    engine = load(yolos_dir).engine
    pictures = images()
    together = engine.detect(pictures)
    engine.batch_size = 1
    alone = engine.detect(pictures)
    for a, b in zip(together, alone, strict=True):
        assert [d.label for d in a] == [d.label for d in b]
        assert [(d.score, d.x, d.y, d.width, d.height) for d in a] == [
            pytest.approx((d.score, d.x, d.y, d.width, d.height), abs=1e-4) for d in b
        ]


def test_timed_batches_and_footprint(vit_dir: Path, yolos_dir: Path) -> None:
    for folder, side in ((vit_dir, 32), (yolos_dir, 64)):
        engine = load(folder).engine
        assert input_size(engine.processor, engine.model.config) == (side, side)
        timed = engine.timed_batch(3, PerfCounterClock(), seed=4)
        assert (timed.batch_size, timed.units) == (3, 3.0)
        assert timed.seconds > 0
        assert engine.footprint().parameters == sum(p.numel() for p in engine.model.parameters())


def test_dtype_and_weight_variants(vit_dir: Path) -> None:
    reference = load(vit_dir).engine.classify_images(images()[:2])
    half = load(vit_dir, dtype="bfloat16")
    assert half.info.dtype == "bfloat16"
    for found, expected in zip(half.engine.classify_images(images()[:2]), reference, strict=True):
        assert found == pytest.approx(expected, abs=0.05)
    pruned = load(vit_dir, pruning={"method": "magnitude", "sparsity": 0.5})
    assert pruned.info.pruning is not None
    assert pruned.info.pruning.achieved_sparsity == pytest.approx(0.5, abs=0.01)
    int8 = load(vit_dir, quantization="int8-dynamic")
    assert int8.info.quantization_detail is not None
    assert len(int8.engine.classify_images(images()[:2])) == 2


def test_a_folder_without_an_image_processor_fails_to_load(vit_dir: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(vit_dir, bare)
    (bare / "preprocessor_config.json").unlink()
    with pytest.raises(ModelLoadError, match="no image processor"):
        load(bare)
