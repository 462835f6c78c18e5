"""Run the ``latency`` and ``resources`` probes on one model and device, and print their metrics.

Run from the repository root:

    python benchmarks/speed_probes.py --model tiny                    # seconds, CPU
    python benchmarks/speed_probes.py --model smollm2                 # packaged SmolLM2, CPU
    python benchmarks/speed_probes.py --model random-llama-1b --device cuda --dtype bfloat16
"""

from __future__ import annotations

import argparse

from _common import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["tiny", "smollm2", "random-llama-1b"], default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--prompt-tokens", type=int, nargs="+", default=[64])
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    from auditkit.engine.hf import HFCausalLM
    from auditkit.probes.base import ProbeContext
    from auditkit.probes.latency import Latency, LatencySpec
    from auditkit.probes.resources import Resources, ResourcesSpec

    model, tokenizer = load(args.model, args.device, args.dtype)
    engine = HFCausalLM(model, tokenizer, name=args.model)
    ctx = ProbeContext(engine=engine, model_id=args.model, seed=args.seed)
    latency = LatencySpec.model_validate(
        {
            "id": "latency",
            "kind": "latency",
            "prompt_tokens": args.prompt_tokens,
            "new_tokens": args.new_tokens,
            "batch_sizes": args.batch_sizes,
        }
    )
    resources = ResourcesSpec.model_validate(
        {
            "id": "resources",
            "kind": "resources",
            "prompt_tokens": args.prompt_tokens[0],
            "new_tokens": args.new_tokens,
            "batch_sizes": [*args.batch_sizes, 4 * max(args.batch_sizes)],
        }
    )
    footprint = engine.footprint()
    print(f"{args.model} on {footprint.device_name} ({footprint.device}, {footprint.dtype})")
    for probe in (Latency(latency), Resources(resources)):
        output = probe.run(ctx)
        print(f"\n{probe.kind}:")
        for metric in output.metrics:
            low = "" if metric.ci_low is None else f"{metric.ci_low:.4g}"
            high = "" if metric.ci_high is None else f"{metric.ci_high:.4g}"
            interval = f" [{low}, {high}]" if low or high else ""
            print(f"  {metric.name:32} {metric.value:14.4g}{interval}  n={metric.n}")


if __name__ == "__main__":
    main()
