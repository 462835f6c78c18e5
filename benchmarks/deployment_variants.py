"""Deployment variants of one model side by side: quality, flips, latency, memory and size.

Run from the repository root:

    python benchmarks/deployment_variants.py                  # the CPU set, packaged SmolLM2
    python benchmarks/deployment_variants.py --device cuda    # the CPU set and the GPU set
    python benchmarks/deployment_variants.py --limit 10 --variants fp32,ort-fp32  # quick
    python benchmarks/deployment_variants.py --list           # the variant table

Each variant (runtime, dtype, quantization, pruning; see ``--list``) becomes one model of a suite
written into ``--out`` (``deployment_variants.yaml``), the first variant being the baseline, with
three probes: ``multiple_choice`` (the built-in 200-question set, the first ``--limit`` items),
``latency`` (batch 1, 64 prompt tokens, 16 new tokens) and ``resources`` (batch 4, same
workload). The suite runs through auditkit's own ``AuditRun``, each model in its own worker
process (as ``auditkit run`` does; ``--isolation none`` keeps them in this process), so a variant
that fails to load is an error row and the others still run. results.json and the scorecard
(with its Deployment view) land in ``--out``.

Printed: one row per variant as the scorecard's Deployment view computes it
(``auditkit.report.deployment``): build, accuracy with its 95% interval, flip rate against the
baseline, end-to-end latency p50, peak memory (GPU when the variant used it, else host), size on
disk and the Pareto-front mark; then the seconds each model took (load + probes). A variant this
machine cannot build (bitsandbytes without CUDA, ONNX Runtime without the CUDA provider, a missing
torchao, ...) is skipped with the reason suite validation would give.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from _common import SMOLLM2

if TYPE_CHECKING:
    from auditkit.models.spec import ModelSpec
    from auditkit.report.deployment import Deployment, Value
    from auditkit.results import AuditResult

CPU_PROVIDER = ["CPUExecutionProvider"]
CUDA_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
SUITE_FILE = "deployment_variants.yaml"


@dataclass(frozen=True)
class Variant:
    name: str
    fields: dict[str, Any]
    """``ModelSpec`` fields other than ``id`` and ``source``."""
    about: str
    default_on: tuple[str, ...] = ()
    """The devices (``cpu``, ``cuda``) whose default set includes the variant."""


BOTH = ("cpu", "cuda")
CUDA = ("cuda",)
VARIANTS = (
    Variant("fp32", {"dtype": "float32"}, "transformers, float32 (the usual baseline)", BOTH),
    Variant(
        "int8-dynamic",
        {"dtype": "float32", "quantization": "int8-dynamic"},
        "transformers, auditkit's int8 weights and per-token int8 activations",
        BOTH,
    ),
    Variant(
        "ort-fp32",
        {"runtime": "onnxruntime", "providers": CPU_PROVIDER},
        "ONNX Runtime on the CPU provider, float32",
        BOTH,
    ),
    Variant(
        "ort-int8-wo",
        {"runtime": "onnxruntime", "providers": CPU_PROVIDER, "quantization": "int8-weight-only"},
        "ONNX Runtime on the CPU provider, int8 weight-only (block-wise)",
        BOTH,
    ),
    Variant(
        "ort-int4-wo-g32",
        {
            "runtime": "onnxruntime",
            "providers": CPU_PROVIDER,
            "quantization": "int4-weight-only",
            "group_size": 32,
        },
        "ONNX Runtime on the CPU provider, int4 weight-only in groups of 32 (MatMulNBits)",
        BOTH,
    ),
    Variant(
        "pruned-2-4",
        {"dtype": "float32", "pruning": {"method": "2:4"}},
        "transformers, float32, 2:4 pruning (half the weights of every linear layer zero)",
        BOTH,
    ),
    Variant("bf16", {"dtype": "bfloat16"}, "transformers, bfloat16", CUDA),
    Variant("fp16", {"dtype": "float16"}, "transformers, float16", CUDA),
    Variant(
        "ort-cuda-fp32",
        {"runtime": "onnxruntime", "providers": CUDA_PROVIDERS},
        "ONNX Runtime on the CUDA provider (CPU as fallback), float32",
        CUDA,
    ),
    Variant(
        "bnb-int8",
        {"dtype": "float16", "quantization": "bnb-int8"},
        "transformers, bitsandbytes LLM.int8 (float16 around it)",
        CUDA,
    ),
    Variant(
        "bnb-nf4",
        {"dtype": "bfloat16", "quantization": "bnb-nf4"},
        "transformers, bitsandbytes NF4 weights, bfloat16 compute",
        CUDA,
    ),
    Variant(
        "torchao-int8-wo",
        {"dtype": "bfloat16", "quantization": "int8-weight-only"},
        "transformers, bfloat16, torchao int8 weight-only",
        CUDA,
    ),
    Variant(
        "torchao-int4-wo",
        # 64, not torchao's usual 128: SmolLM2-135M's 576 input features split into 64s only.
        {"dtype": "bfloat16", "quantization": "int4-weight-only", "group_size": 64},
        "transformers, bfloat16, torchao int4 weight-only in groups of 64 (tinygemm)",
        CUDA,
    ),
    # Not in any default set:
    Variant(
        "ort-int8-dynamic",
        {"runtime": "onnxruntime", "providers": CPU_PROVIDER, "quantization": "int8-dynamic"},
        "ONNX Runtime on the CPU provider, int8 weights and per-tensor int8 activations",
    ),
    Variant(
        "ort-trt-fp32",
        {
            "runtime": "onnxruntime",
            "providers": ["TensorrtExecutionProvider", *CUDA_PROVIDERS],
        },
        "ONNX Runtime on the TensorRT provider (CUDA, CPU as fallbacks), float32",
    ),
    Variant(
        "pruned-magnitude-50",
        {"dtype": "float32", "pruning": {"method": "magnitude", "sparsity": 0.5}},
        "transformers, float32, the smallest half of each linear layer's weights set to zero",
    ),
)
BY_NAME = {variant.name: variant for variant in VARIANTS}


def default_names(device: str) -> list[str]:
    return [variant.name for variant in VARIANTS if device in variant.default_on]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--source", default=SMOLLM2, help="the model every variant is built from (suite syntax)"
    )
    parser.add_argument(
        "--variants",
        default=None,
        help="comma-separated names from --list, the first being the baseline; default: the "
        "device's set",
    )
    parser.add_argument(
        "--limit", type=int, default=200, help="multiple-choice items (of the built-in 200)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder; default: reports/deployment-DEVICE"
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--isolation",
        choices=["process", "none"],
        default="process",
        help="process: each variant in a fresh worker process (clean memory peaks); none: all in "
        "this process",
    )
    parser.add_argument("--list", action="store_true", help="print the variant table and stop")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    names = default_names(args.device) if args.variants is None else args.variants.split(",")
    names = [name.strip() for name in names if name.strip()]
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    if len(set(names)) != len(names) or not names:
        parser.error("--variants: name each variant once, at least one")
    args.names = names
    return args


def print_variants() -> None:
    width = max(len(name) for name in BY_NAME)
    for variant in VARIANTS:
        where = "/".join(variant.default_on) or "-"
        print(f"{variant.name:{width}}  {where:8}  {variant.about}")
    print("\nthe middle column: the devices whose default set includes the variant")


# --- the suite ---------------------------------------------------------------------------------


@dataclass
class Plan:
    runnable: list[tuple[Variant, ModelSpec]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(variant, one-line reason)."""


def local_source(source: str) -> str:
    """``source`` with a relative file or folder made absolute, so the suite (written into
    another folder) finds it."""
    from auditkit.models.spec import ModelSource

    parsed = ModelSource.parse(source, Path.cwd())
    if parsed.kind in ("gguf", "hf", "peft") and parsed.path is not None:
        return f"{parsed.kind}:{parsed.path.resolve()}"
    return source


def plan(names: list[str], source: str, device: str) -> Plan:
    """The variants this machine can build, each as a validated ``ModelSpec``, and the others
    with the reason suite validation would give (``auditkit.models.support.variant_problem``)."""
    from pydantic import ValidationError

    from auditkit.models.spec import ModelSpec
    from auditkit.models.support import variant_problem

    found = Plan()
    for name in names:
        variant = BY_NAME[name]
        entry = {"id": name, "source": source, **variant.fields}
        try:
            spec = ModelSpec.model_validate(entry, context={"base_dir": str(Path.cwd())})
        except ValidationError as exc:
            reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            found.skipped.append((name, reason))
            continue
        try:
            problem = variant_problem(spec, device)
        except Exception as exc:  # a broken check must not stop the other variants
            problem = ("", f"could not check whether it can run here: {exc!r}")
        if problem is not None:
            found.skipped.append((name, problem[1]))
            continue
        found.runnable.append((variant, spec))
    return found


def suite_data(args: argparse.Namespace, variants: list[Variant], source: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": f"deployment-variants-{args.device}",
        "description": "Written by benchmarks/deployment_variants.py.",
        "seed": args.seed,
        "device": args.device,
        "isolation": args.isolation,
        "baseline": variants[0].name,
        "models": [{"id": v.name, "source": source, **v.fields} for v in variants],
        "probes": [
            {"id": "mc", "kind": "multiple_choice", "limit": args.limit},
            {
                "id": "latency",
                "kind": "latency",
                "batch_sizes": [1],
                "prompt_tokens": [64],
                "new_tokens": 16,
            },
            {
                "id": "resources",
                "kind": "resources",
                "batch_sizes": [4],
                "prompt_tokens": 64,
                "new_tokens": 16,
            },
        ],
        "report": {"formats": ["html", "markdown"]},
    }


def run_suite(path: Path, out_dir: Path) -> AuditResult:
    from auditkit.executors import executor_for
    from auditkit.progress import progress_for_stdout
    from auditkit.report import write_reports
    from auditkit.runner import AuditRun
    from auditkit.suite import load_suite

    suite = load_suite(path)
    os.environ.setdefault("TQDM_DISABLE", "1")  # as `auditkit run`: one progress display
    executor = executor_for(suite)
    progress = progress_for_stdout()
    try:
        result = AuditRun(suite, out_dir, progress, executor=executor).execute()
    finally:
        progress.close()
        executor.close()
    write_reports(result, out_dir, list(suite.report.formats))
    return result


# --- the table ---------------------------------------------------------------------------------


def _text(value: Value | None, with_interval: bool = False) -> str:
    if value is None:
        return "—"
    if with_interval and value.interval:
        return f"{value.text} {value.interval}"
    return value.text


def _mib(value: Value | None, with_kind: bool = False) -> str:
    if value is None or value.number is None:
        return "—"
    text = f"{value.number / 2**20:,.1f}"
    return f"{text} {value.kind}" if with_kind and value.kind else text


def _ms(value: Value | None) -> str:
    return "—" if value is None or value.number is None else f"{value.number:,.1f}"


def table_rows(deployment: Deployment) -> list[list[str]]:
    from auditkit.report.deployment import FRONT_MARK

    rows = []
    for row in deployment.rows:
        if not row.loaded:
            rows.append([row.model_id, f"error: {row.error}"])
            continue
        rows.append(
            [
                row.model_id + (" (baseline)" if row.baseline else ""),
                row.build_text + (" [notes]" if row.noted else ""),
                _text(row.quality, with_interval=True),
                _text(row.flip),
                _ms(row.latency),
                _mib(row.memory, with_kind=True),
                _mib(row.disk),
                FRONT_MARK if row.front else "",
            ]
        )
    return rows


def print_table(result: AuditResult, device: str) -> None:
    from auditkit.report.deployment import FRONT_LEGEND, FRONT_MARK, build_deployment

    env = result.environment
    if device == "cuda" and env.gpus:
        hardware = f"card: {env.gpus[0]}" + (f" (CUDA {env.cuda})" if env.cuda else "")
        hardware += f"; CPU: {env.cpu}"
    else:
        hardware = f"CPU: {env.cpu} ({env.cpu_count} logical cores)"
    print(f"\n{hardware}")
    deployment = build_deployment(result)
    if deployment is None:
        print("one variant only: no deployment view (it compares two or more)")
    else:
        headings = [
            "variant",
            "build",
            deployment.quality.split(": ")[-1] + " [95% CI]" if deployment.quality else "quality",
            "flip rate",
            "latency p50 ms",
            "peak memory MiB",
            "MiB on disk",
            "front",
        ]
        _print_columns(headings, table_rows(deployment))
        notes = []
        if deployment.quality:
            notes.append(f"quality = {deployment.quality}")
        if deployment.shows_flips:
            notes.append(
                f"flip rate = answers changed vs {deployment.baseline} on "
                f"{deployment.agreement_probe}"
            )
        if deployment.compared:
            notes.append(f"{FRONT_MARK} = {FRONT_LEGEND} ({deployment.compared_labels})")
        if deployment.noted:
            notes.append(
                "[notes] = ran with notes (see results.json), latency may not represent it"
            )
        for note in notes:
            print(note)
    print("\nseconds per model (load + probes):")
    for model in result.models:
        probes = sum(probe.seconds for probe in model.probes)
        if model.info is None:
            print(f"  {model.model_id:20} failed to load")
            continue
        load = model.info.load_seconds
        parts = ", ".join(f"{probe.probe_id} {probe.seconds:.1f}" for probe in model.probes)
        print(
            f"  {model.model_id:20} {load + probes:7.1f} s = load {load:.1f} + probes "
            f"{probes:.1f} ({parts})"
        )


def _print_columns(headings: list[str], rows: list[list[str]]) -> None:
    """Left-aligned columns; an error row's message runs past the columns after the first."""
    widths = [len(h) for h in headings]
    for row in rows:
        if len(row) == len(headings):
            widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        print_variants()
        return 0
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            print("--device cuda: torch sees no CUDA device", file=sys.stderr)
            return 2
    from auditkit.runner import exit_code_for

    source = local_source(args.source)
    found = plan(args.names, source, args.device)
    for name, reason in found.skipped:
        print(f"skipped {name}: {reason}")
    if not found.runnable:
        print("no variant can run here", file=sys.stderr)
        return 2
    variants = [variant for variant, _ in found.runnable]
    if variants[0].name != args.names[0]:
        print(f"baseline: {variants[0].name} ({args.names[0]} was skipped)")
    out_dir: Path = args.out or Path("reports") / f"deployment-{args.device}"
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    suite_path = out_dir / SUITE_FILE
    suite_path.write_text(
        yaml.safe_dump(suite_data(args, variants, source), sort_keys=False), encoding="utf-8"
    )
    result = run_suite(suite_path, out_dir)
    print_table(result, args.device)
    for name, reason in found.skipped:
        print(f"skipped {name}: {reason}")
    print(f"wrote {out_dir}")
    return int(exit_code_for(result))


if __name__ == "__main__":
    raise SystemExit(main())
