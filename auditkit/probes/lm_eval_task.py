"""``lm_eval``: run lm-evaluation-harness tasks on the already loaded model.

lm-eval computes the task's metrics itself (``simple_evaluate``); auditkit only supplies the model,
through an adapter that routes lm-eval's requests to auditkit's engine. Tokenisation equals
lm-eval's Hugging Face backend, so the numbers equal ``simple_evaluate(model="hf", ...)``.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from auditkit.engine.base import GenerationRequest, LanguageModel, LoglikelihoodRequest
from auditkit.errors import UserError
from auditkit.probes.base import (
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    SuitePath,
    register_probe,
)
from auditkit.results import Direction, Metric
from auditkit.stats import Z_95

DEFAULT_MAX_GEN_TOKS = 256
_NOT_METRICS = {"alias", "sample_len", "samples"}  # bookkeeping entries in lm-eval's results


class LmEvalSpec(ProbeSpec):
    kind: Literal["lm_eval"]
    tasks: list[str] = Field(
        min_length=1, description="lm-eval task or group names (built-in, or from include_path)."
    )
    include_path: SuitePath | None = Field(
        None, description="A folder of lm-eval task YAML files (data may be local JSON/JSONL)."
    )
    num_fewshot: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=1, description="Use only the first N documents per task.")


@register_probe
class LmEval(Probe[LmEvalSpec]):
    """Metrics exactly as lm-eval reports them for each task.

    One metric per task, metric and filter, named ``TASK/METRIC`` (``TASK/METRIC[FILTER]`` when the
    filter is not ``none``). Value and direction are lm-eval's (``higher_is_better``); the 95%
    interval is value ± 1.96 × lm-eval's standard error, where lm-eval gives one. ``n`` is the
    number of documents evaluated.
    """

    kind = "lm_eval"
    Spec = LmEvalSpec

    def data_files(self) -> list[Path]:
        folder = self.spec.include_path
        if folder is None:
            return []
        return sorted(p for p in folder.rglob("*") if p.is_file())

    def check_data(self) -> None:
        folder = self.spec.include_path
        if folder is not None and not (folder.is_dir() and any(folder.rglob("*.yaml"))):
            raise UserError(f"{folder}: include_path must be a folder holding task YAML files")

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        from lm_eval import simple_evaluate
        from lm_eval.tasks import TaskManager

        include = str(self.spec.include_path) if self.spec.include_path else None
        manager = TaskManager(include_path=include)
        missing = [t for t in self.spec.tasks if t not in manager.all_tasks]
        if missing:
            raise ValueError(f"lm-eval knows no task named {', '.join(map(repr, missing))}")
        # lm-eval reads a local task's relative data_files against the working directory;
        # run from the task folder so a task folder works wherever the suite is started.
        with _working_directory(self.spec.include_path):
            output = self._evaluate(simple_evaluate, manager, ctx)
        if output is None:  # only on non-zero ranks in distributed runs
            raise RuntimeError("lm-eval returned no results")
        return ProbeOutput(metrics_from_lm_eval(output), samples_from_lm_eval(output))

    def _evaluate(self, simple_evaluate: Any, manager: Any, ctx: ProbeContext) -> Any:
        return simple_evaluate(
            model=make_lm_eval_adapter(ctx.model, ctx),
            tasks=list(self.spec.tasks),
            num_fewshot=self.spec.num_fewshot,
            limit=self.spec.limit,
            task_manager=manager,
            log_samples=True,
            random_seed=ctx.seed,
            numpy_random_seed=ctx.seed,
            torch_random_seed=ctx.seed,
            fewshot_random_seed=ctx.seed,
        )


@contextlib.contextmanager
def _working_directory(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    previous = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def metrics_from_lm_eval(output: dict[str, Any]) -> list[Metric]:
    """Turn ``simple_evaluate``'s ``results`` into auditkit metrics (one per task/metric/filter)."""
    metrics = []
    for task, values in output["results"].items():
        n_docs = output.get("n-samples", {}).get(task, {}).get("effective", 0)
        better = output.get("higher_is_better", {}).get(task, {})
        for key, value in values.items():
            metric, _, filter_name = key.partition(",")
            if (
                metric.endswith("_stderr")
                or metric in _NOT_METRICS
                or not isinstance(value, int | float)
            ):
                continue
            stderr = values.get(f"{metric}_stderr,{filter_name}")
            low = high = None
            if isinstance(stderr, int | float) and math.isfinite(stderr):
                low, high = value - Z_95 * stderr, value + Z_95 * stderr
            direction: Direction = (
                "none" if metric not in better else ("higher" if better[metric] else "lower")
            )
            suffix = "" if filter_name in ("none", "") else f"[{filter_name}]"
            metrics.append(
                Metric(
                    name=f"{task}/{metric}{suffix}",
                    value=float(value),
                    ci_low=low,
                    ci_high=high,
                    n=int(n_docs),
                    direction=direction,
                    interval="lm-eval-stderr" if low is not None else "none",
                    per_item=metric if filter_name in ("none", "") else None,
                    description=f"lm-eval {task}: {metric}",
                    unit="score",  # the task defines the metric: shown as a plain number
                )
            )
    return metrics


def samples_from_lm_eval(output: dict[str, Any]) -> list[Sample]:
    samples = []
    for task, records in output.get("samples", {}).items():
        for record in records:
            arguments = record.get("arguments") or [[""]]
            first = arguments[0] if isinstance(arguments, list | tuple) else arguments
            prompt = first[0] if isinstance(first, list | tuple) else first
            if isinstance(prompt, dict):  # newer lm-eval: {"arg_0": ..., "arg_1": ...}
                prompt = next(iter(prompt.values()), "")
            metric_names = record.get("metrics") or []
            scores = {
                m: float(record[m])
                for m in metric_names
                if isinstance(record.get(m), int | float | bool)
            }
            samples.append(
                Sample(
                    item_id=f"{task}/{record.get('doc_id')}",
                    input=str(prompt),
                    output=str(record.get("filtered_resps", "")),
                    target=str(record.get("target", "")),
                    scores=scores,
                    details={
                        "task": task,
                        "doc_id": record.get("doc_id"),
                        "filtered_resps": record.get("filtered_resps"),
                    },
                )
            )
    return samples


def make_lm_eval_adapter(model: LanguageModel, ctx: ProbeContext | None = None) -> Any:
    """An lm-eval ``LM`` that answers lm-eval's requests with ``model``."""
    from lm_eval.api.model import LM

    advance = ctx.advance if ctx else None

    class AuditkitLM(LM):
        def loglikelihood(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list:
            if ctx:
                ctx.set_total(len(requests))
            batch = [LoglikelihoodRequest(*r.args) for r in requests]
            return [(r.logprob, r.is_greedy) for r in model.loglikelihood(batch, advance)]

        def loglikelihood_rolling(
            self, requests: Sequence[Any], disable_tqdm: bool = False
        ) -> list:
            if ctx:
                ctx.set_total(len(requests))
            return model.loglikelihood_rolling([r.args[0] for r in requests], advance)

        def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list:
            if ctx:
                ctx.set_total(len(requests))
            batch = []
            for request in requests:
                context, options = request.args
                until = options.get("until") or []
                stop = (until,) if isinstance(until, str) else tuple(until)
                max_new = int(options.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
                batch.append(GenerationRequest(context, max_new, stop))
            return model.generate(batch, advance)

    return AuditkitLM()
