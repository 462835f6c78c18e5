"""The lm_eval probe reports exactly what lm-eval's own Hugging Face backend reports."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from auditkit.models.loader import load_model
from auditkit.models.spec import ModelSpec
from auditkit.probes.base import ProbeContext
from auditkit.probes.lm_eval_task import LmEval, LmEvalSpec, metrics_from_lm_eval
from tests.probes.units import assert_units_read_as_before

TASKS = Path(__file__).parent.parent / "data" / "lm_eval_tasks"
TASK = "auditkit_tiny_mc"


@pytest.fixture()
def task_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    shutil.copytree(TASKS, folder)
    return folder


def reference_run(model_dir: Path, task_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    monkeypatch.chdir(task_dir)
    return simple_evaluate(
        model="hf",
        model_args={"pretrained": str(model_dir), "dtype": "float32", "device": "cpu"},
        tasks=[TASK],
        task_manager=TaskManager(include_path=str(task_dir)),
        log_samples=True,
        random_seed=7,
        numpy_random_seed=7,
        torch_random_seed=7,
        fewshot_random_seed=7,
    )


def test_lm_eval_probe_equals_simple_evaluate(
    tiny_llama_dir: Path, task_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = LmEvalSpec.model_validate(
        {"id": "tiny", "kind": "lm_eval", "tasks": [TASK], "include_path": "tasks"},
        context={"base_dir": tmp_path},
    )
    model_spec = ModelSpec.model_validate(
        {"id": "tiny", "source": f"hf:{tiny_llama_dir}", "dtype": "float32"},
        context={"base_dir": tmp_path},
    )
    loaded = load_model(model_spec, "cpu")
    output = LmEval(spec).run(ProbeContext(engine=loaded.engine, model_id="tiny", seed=7))

    reference = reference_run(tiny_llama_dir, task_dir, monkeypatch)
    expected = reference["results"][TASK]
    metrics = {m.name: m for m in output.metrics}
    assert set(metrics) == {f"{TASK}/acc", f"{TASK}/acc_norm"}
    for name in ("acc", "acc_norm"):
        metric = metrics[f"{TASK}/{name}"]
        assert metric.value == expected[f"{name},none"]
        assert metric.n == 8
        assert metric.direction == "higher"
        stderr = expected[f"{name}_stderr,none"]
        assert metric.ci_high == pytest.approx(metric.value + 1.959963984540054 * stderr)

    # Per-document log-likelihoods agree within float tolerance, and so does every choice.
    ours = {s.item_id: s.details["filtered_resps"] for s in output.samples}
    assert len(ours) == 8
    for record in reference["samples"][TASK]:
        mine = ours[f"{TASK}/{record['doc_id']}"]
        for (ll_ref, greedy_ref), (ll_ours, greedy_ours) in zip(
            record["filtered_resps"], mine, strict=True
        ):
            assert ll_ours == pytest.approx(float(ll_ref), abs=1e-4)
            assert greedy_ours == greedy_ref


def test_unknown_task_is_an_error(tmp_path: Path) -> None:
    from auditkit.engine.mock import MockModel

    spec = LmEvalSpec.model_validate(
        {"id": "x", "kind": "lm_eval", "tasks": ["no_such_task_anywhere"]},
        context={"base_dir": tmp_path},
    )
    with pytest.raises(ValueError, match="no task named 'no_such_task_anywhere'"):
        LmEval(spec).run(ProbeContext(engine=MockModel(), model_id="m", seed=1))


def test_lm_eval_metrics_are_plain_numbers_with_a_named_interval() -> None:
    output = {
        "results": {
            "t": {
                "alias": "t",
                "acc,none": 0.5,
                "acc_stderr,none": 0.1,
                "word_perplexity,none": 12.25,
                "word_perplexity_stderr,none": "N/A",
            }
        },
        "n-samples": {"t": {"effective": 20}},
        "higher_is_better": {"t": {"acc": True, "word_perplexity": False}},
    }
    acc, perplexity = metrics_from_lm_eval(output)
    assert (acc.unit, acc.interval, acc.interval_text) == (
        "score",
        "lm-eval-stderr",
        "lm-eval stderr × 1.96",
    )
    assert (perplexity.unit, perplexity.interval, perplexity.ci_low) == ("score", "none", None)
    assert_units_read_as_before([acc, perplexity])
