"""Does a variant's score depend on its batch? Scores the built-in multiple-choice questions with
each variant of the packaged SmolLM2 twice: with the default batching (up to 64 rows per forward
pass) and one row per forward pass, and prints accuracy, time and the largest per-choice change.

    .venv/bin/python benchmarks/batch_invariance.py [--questions N] [--variants a,b,...]

Variants: float32, bfloat16, int8-per-token (auditkit's ``int8-dynamic``), int8-per-tensor
(torch.ao's dynamic quantization, the earlier scheme), torchao (torchao's int8 dynamic
activation + int8 weight, when torchao is installed; slow on a CPU). Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

from _common import ROOT, load_smollm2

VARIANTS = ("float32", "bfloat16", "int8-per-token", "int8-per-tensor", "torchao")


def build(variant: str) -> tuple[Any, Any]:
    import torch

    model, tokenizer = load_smollm2("cpu", "bfloat16" if variant == "bfloat16" else "float32")
    if variant == "int8-per-token":
        from auditkit.models.quantize import quantize_int8_dynamic

        quantize_int8_dynamic(model)
    elif variant == "int8-per-tensor":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
    elif variant == "torchao":
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

        quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return model, tokenizer


def requests(n: int) -> tuple[list[Any], list[int], list[int]]:
    from auditkit.engine.base import LoglikelihoodRequest

    path = ROOT / "auditkit/data/multiple_choice/general_knowledge.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][:n]
    out, sizes, answers = [], [], []
    for item in items:
        prompt = f"Question: {item['question']}\nAnswer:"
        out += [LoglikelihoodRequest(prompt, " " + c) for c in item["choices"]]
        sizes.append(len(item["choices"]))
        answers.append(item["answer"])
    return out, sizes, answers


def accuracy(logprobs: list[float], sizes: list[int], answers: list[int]) -> float:
    hits, start = 0, 0
    for size, answer in zip(sizes, answers, strict=True):
        block = logprobs[start : start + size]
        hits += max(range(size), key=block.__getitem__) == answer
        start += size
    return hits / len(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--variants", default="float32,bfloat16,int8-per-token,int8-per-tensor")
    parser.add_argument(
        "--native-attention",
        action="store_true",
        help="attention in the model's own precision (as before auditkit computed it in float64)",
    )
    args = parser.parse_args()
    from auditkit.engine.hf import HFCausalLM

    reqs, sizes, answers = requests(args.questions)
    attention = "native" if args.native_attention else "float64"
    print(
        f"{len(sizes)} questions, {len(reqs)} requests, SmolLM2-135M on the CPU, "
        f"{attention} attention"
    )
    print(
        f"{'variant':16} {'rows':>4} {'seconds':>8} {'accuracy':>8} {'max |Δ|':>9} {'mean |Δ|':>9}"
    )
    for variant in args.variants.split(","):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        model, tokenizer = build(variant)
        runs = {}
        for rows in (64, 1):
            engine = HFCausalLM(model, tokenizer, name=variant, max_batch_size=rows)
            engine.exact_attention = not args.native_attention
            start = time.perf_counter()
            scores = [r.logprob for r in engine.loglikelihood(reqs)]
            runs[rows] = (time.perf_counter() - start, scores)
        reference = runs[64][1]
        for rows, (seconds, scores) in runs.items():
            deltas = [abs(a - b) for a, b in zip(scores, reference, strict=True)]
            print(
                f"{variant:16} {rows:>4} {seconds:>8.1f} {accuracy(scores, sizes, answers):>8.1%}"
                f" {max(deltas):>9.2e} {sum(deltas) / len(deltas):>9.2e}"
            )


if __name__ == "__main__":
    main()
