"""The vision template suites (``docs/examples/vision.yaml``, ``docs/examples/detection.yaml``)
end to end on tiny random models and generated images: their models, data paths and timing
settings swapped for this run's, everything else (probes, gates, baseline, policy) as shipped."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditkit.errors import UserError
from auditkit.progress import LogProgress
from auditkit.results import AuditResult
from auditkit.runner import SAMPLES_FILE, AuditRun
from auditkit.suite import load_suite
from tests.tiny_vision import (
    build_vit_classifier,
    build_yolos_detector,
    write_coco_set,
    write_image_folder,
)

SUITES = Path(__file__).parent.parent / "docs" / "examples"
QUICK_LATENCY = {"warmup": 0, "min_runs": 3, "max_runs": 3, "min_seconds": 0.0}


def shipped(name: str) -> dict[str, Any]:
    data = yaml.safe_load((SUITES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_suite(folder: Path, suite: dict[str, Any]) -> tuple[AuditResult, Path]:
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    out = folder / "out"
    result = AuditRun(load_suite(path), out, LogProgress(stream=io.StringIO())).execute()
    return result, out


def fast(suite: dict[str, Any]) -> dict[str, Any]:
    """``suite`` on the CPU with its latency probe cut to three timed runs per batch size."""
    for probe in suite["probes"]:
        if probe["kind"] == "latency":
            probe.update(QUICK_LATENCY)
    return {**suite, "device": "cpu"}


def sample_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / SAMPLES_FILE).read_text("utf-8").splitlines()]


@pytest.mark.parametrize("name", ["vision.yaml", "detection.yaml"])
def test_the_shipped_suites_are_valid_but_for_the_users_files(name: str) -> None:
    """Only the placeholders for the user's checkpoints and data fail validation."""
    with pytest.raises(UserError) as raised:
        load_suite(SUITES / name, check_data=False)
    problems = raised.value.problems
    assert problems
    assert all("not found" in problem for problem in problems), problems


@pytest.fixture(scope="module")
def classification_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    import torch
    from transformers import ViTForImageClassification

    from auditkit.models.pruning import prune
    from auditkit.models.spec import PruningSpec

    folder = tmp_path_factory.mktemp("vision-suite")
    base = folder / "models" / "vit-base"
    build_vit_classifier(base, seed=0)
    pruned = folder / "models" / "vit-pruned"
    shutil.copytree(base, pruned)
    model = ViTForImageClassification.from_pretrained(pruned).eval()
    with torch.no_grad():
        prune(model, PruningSpec(method="magnitude", sparsity=0.3))
    model.save_pretrained(pruned, safe_serialization=True)
    images = write_image_folder(folder / "data" / "images", per_class=3)

    suite = fast(shipped("vision.yaml"))
    assert [m["id"] for m in suite["models"]] == ["vit-base", "vit-pruned"]
    suite["models"][0]["source"] = f"hf:{base}"
    suite["models"][1]["source"] = f"hf:{pruned}"
    [image_probe] = [p for p in suite["probes"] if p["kind"] == "image_classification"]
    image_probe["data"] = str(images)
    return run_suite(folder, suite)


def test_the_image_classification_suite_end_to_end(
    classification_run: tuple[AuditResult, Path],
) -> None:
    result, out = classification_run
    assert result.errors == []
    assert result.baseline == "vit-base"
    for model in result.models:
        assert model.info is not None and model.info.task == "image-classification"
        images = model.probe("images")
        assert images is not None and images.n_samples == 18
        top1 = images.metric("top1_accuracy")
        assert top1 is not None and top1.n == 18 and top1.per_item == "correct"
        assert {m.group for m in images.metrics if m.name == "recall"} == {
            "red",
            "green",
            "blue",
            "yellow",
            "cyan",
            "magenta",
        }
        latency = model.probe("latency")
        assert latency is not None and latency.metric("b8/items_per_s") is not None
    [comparison] = [c for c in result.comparisons if c.metric == "top1_accuracy"]
    assert (comparison.model_id, comparison.n) == ("vit-pruned", 18)
    assert "McNemar" in comparison.method
    verdicts = {(v.model_id, v.metric): v.status for v in result.verdicts}
    assert set(verdicts) == {
        ("vit-pruned", "top1_accuracy"),
        ("vit-base", "ece"),
        ("vit-pruned", "ece"),
    }
    assert "error" not in verdicts.values()
    records = [r for r in sample_lines(out) if r["probe_id"] == "images"]
    assert len(records) == 36
    assert {len(r["details"]["top5"]) for r in records} == {5}


@pytest.fixture(scope="module")
def detection_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Path]:
    folder = tmp_path_factory.mktemp("detection-suite")
    detector = folder / "models" / "yolos-small"
    build_yolos_detector(detector, seed=0)
    annotations = write_coco_set(folder / "data" / "coco", images=8)

    suite = fast(shipped("detection.yaml"))
    assert [m["id"] for m in suite["models"]] == ["detector-f32", "detector-bf16"]
    for model in suite["models"]:
        model["source"] = f"hf:{detector}"
    [boxes] = [p for p in suite["probes"] if p["kind"] == "object_detection"]
    boxes.update(annotations=str(annotations), images=str(annotations.parent / "images"))
    return run_suite(folder, suite)


def test_the_object_detection_suite_end_to_end(detection_run: tuple[AuditResult, Path]) -> None:
    result, out = detection_run
    assert result.errors == []
    dtypes = {m.model_id: m.info.dtype for m in result.models if m.info is not None}
    assert dtypes == {"detector-f32": "float32", "detector-bf16": "bfloat16"}
    for model in result.models:
        boxes = model.probe("boxes")
        assert boxes is not None and boxes.n_samples == 8
        overall = boxes.metric("map_50_95")
        assert overall is not None and 0.0 <= overall.value <= 1.0
        assert overall.interval_detail == "200 resamples of the images"
        assert {m.group for m in boxes.metrics if m.name == "ap_50_95"} == {"red", "green", "blue"}
        latency = model.probe("latency")
        assert latency is not None and latency.metric("b4/items_per_s") is not None
    [comparison] = [c for c in result.comparisons if c.metric == "recall_50"]
    assert (comparison.model_id, comparison.n) == ("detector-bf16", 8)
    verdicts = {(v.model_id, v.metric): v.status for v in result.verdicts}
    assert set(verdicts) == {
        ("detector-bf16", "recall_50"),
        ("detector-f32", "map_50_95"),
        ("detector-bf16", "map_50_95"),
    }
    assert "error" not in verdicts.values()
    records = [r for r in sample_lines(out) if r["probe_id"] == "boxes"]
    assert len(records) == 16
    assert all(r["details"]["ground_truth"] >= 1 for r in records)
