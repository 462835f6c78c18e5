"""Multiple-choice scoring speed: auditkit's engine against lm-eval's Hugging Face backend.

Run from the repository root:

    python benchmarks/mc_vs_lm_eval.py                       # packaged SmolLM2, float32, CPU
    python benchmarks/mc_vs_lm_eval.py --model tiny          # tiny random Llama: a quick run
    python benchmarks/mc_vs_lm_eval.py --device cuda --dtype bfloat16 --random-llama-1b

Both backends score the same log-likelihood requests (``--questions`` synthetic four-choice
questions, 40–70-word contexts, 5–15-word choices, seeded) on the same loaded model, in this one
process, after a short warm-up each, in ``--rounds`` rounds of alternating order (lm-eval,
auditkit, then auditkit, lm-eval, ...), so drift in the machine's load hits both alike; each
backend's best round counts. Printed: requests per second for each (per wall-clock second and per
CPU-second of this process, which other processes on the machine disturb less), auditkit's
speed-up, and agreement (share of questions with the same highest-scoring choice, the
largest |Δ log-likelihood| over all requests, share of equal ``is_greedy`` flags).

In float32, both backends are also checked against the exact value: the first
``--truth-questions`` questions' log-likelihoods computed in float64, one unpadded row per request,
log-softmax in float64. This tells which backend a disagreement comes from: on a CPU, float32
``log_softmax`` over a large vocabulary carries a small bias (a few 1e-6 per token), which lm-eval's
sums inherit and auditkit's ``logit − logsumexp`` does not.

On a GPU, model FLOPs utilisation is printed too: 2 × parameters × tokens / seconds / peak
FLOP/s, with tokens = the input tokens of the one-pair-per-row computation (the same useful work
for both backends) and, for auditkit, also the tokens it actually ran (``executed``).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from typing import Any

from _common import load, synthetic_questions


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument("--random-llama-1b", action="store_true", help="Llama-3.2-1B shape")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--questions", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lm-eval-batch-size", type=int, default=16)
    parser.add_argument("--batch-tokens", type=int, default=8192, help="auditkit's token budget")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="dense peak, TFLOP/s")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each backend")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--plain", action="store_true", help="also time auditkit's plain path")
    parser.add_argument(
        "--truth-questions", type=int, default=40, help="questions checked against float64"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.getLogger("lm_eval").setLevel(logging.ERROR)  # one truncation warning per request
    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from auditkit.engine.base import LoglikelihoodRequest
    from auditkit.engine.hf import HFCausalLM

    if args.threads:
        torch.set_num_threads(args.threads)
    name = "random-llama-1b" if args.random_llama_1b else args.model
    model, tokenizer = load(name, args.device, args.dtype)
    parameters = sum(p.numel() for p in model.parameters())
    questions = synthetic_questions(args.questions, args.seed)
    requests = [LoglikelihoodRequest(q.context, " " + c) for q in questions for c in q.choices]
    print(
        f"model {name} ({parameters / 1e6:.1f}M parameters, {args.dtype}, {args.device}); "
        f"{len(questions)} questions, {len(requests)} requests; torch threads "
        f"{torch.get_num_threads()}"
    )

    engine = HFCausalLM(model, tokenizer, name=name, batch_tokens=args.batch_tokens)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=args.lm_eval_batch_size)
    instances = [
        Instance(request_type="loglikelihood", doc={}, arguments=(r.context, r.continuation), idx=i)
        for i, r in enumerate(requests)
    ]

    def run_lm_eval(items: list[Any]) -> list[tuple[float, bool]]:
        return [(float(a), bool(b)) for a, b in lm.loglikelihood(items, disable_tqdm=True)]

    def run_auditkit(items: list[LoglikelihoodRequest], fast: bool) -> list[tuple[float, bool]]:
        return [(r.logprob, r.is_greedy) for r in engine.loglikelihood(items, fast=fast)]

    warm = 8
    run_lm_eval(instances[:warm])
    run_auditkit(requests[:warm], fast=True)
    backends: dict[str, Any] = {
        "lm-eval": lambda: run_lm_eval(instances),
        "auditkit": lambda: run_auditkit(requests, fast=True),
    }
    if args.plain:
        backends["auditkit plain"] = lambda: run_auditkit(requests, fast=False)
    timings: dict[str, Timing] = {}
    for round_number in range(args.rounds):
        labels = list(backends) if round_number % 2 == 0 else list(reversed(backends))
        for label in labels:
            engine.stats.tokens = 0
            timing = _timed(backends[label], args.device)
            print(
                f"round {round_number + 1} {label}: {timing.wall:.2f} s wall, "
                f"{timing.cpu:.2f} CPU-s",
                flush=True,
            )
            best = timings.get(label)
            timings[label] = timing if best is None else best.best(timing)
            if label == "auditkit":
                executed = engine.stats.tokens

    print()
    for label, timing in timings.items():
        print(
            f"{label:>15}: {len(requests) / timing.wall:8.1f} requests/s "
            f"({timing.wall:.2f} s wall), {len(requests) / timing.cpu:8.1f} requests/CPU-s"
        )
    ratio = timings["lm-eval"].wall / timings["auditkit"].wall
    cpu_ratio = timings["lm-eval"].cpu / timings["auditkit"].cpu
    print(f"{'speed-up':>15}: {ratio:.2f}× wall, {cpu_ratio:.2f}× CPU (auditkit over lm-eval)")

    reference, ours = timings["lm-eval"].result, timings["auditkit"].result
    same, largest, greedy = _agreement(reference, ours, [len(q.choices) for q in questions])
    print(
        f"{'agreement':>15}: same choice on {same:.1%} of questions; "
        f"max |Δ loglikelihood| {largest:.2e}; same is_greedy on {greedy:.1%} of requests"
    )
    if "auditkit plain" in timings:
        plain = timings["auditkit plain"].result
        same, largest, greedy = _agreement(plain, ours, [len(q.choices) for q in questions])
        print(
            f"{'vs plain':>15}: same choice on {same:.1%} of questions; "
            f"max |Δ loglikelihood| {largest:.2e}; same is_greedy on {greedy:.1%} of requests"
        )
    if args.dtype == "float32" and args.truth_questions > 0:
        count = sum(len(q.choices) for q in questions[: args.truth_questions])
        truth = _float64_truth(model, engine.encode_pairs(requests[:count]))
        for label, timing in timings.items():
            errors = [abs(ll - exact) for (ll, _), exact in zip(timing.result, truth, strict=False)]
            print(
                f"{label:>15}: |error| against float64 over {count} requests: "
                f"max {max(errors):.2e}, mean {sum(errors) / count:.2e}"
            )
    if args.device.startswith("cuda"):
        useful = sum(len(c) + len(t) - 1 for c, t in engine.encode_pairs(requests))
        peak = args.peak_tflops * 1e12
        for label, timing in timings.items():
            mfu = 2 * parameters * useful / timing.wall / peak
            print(f"{label:>15}: model FLOPs utilisation {mfu:.1%} (useful tokens {useful})")
        mfu = 2 * parameters * executed / timings["auditkit"].wall / peak
        print(f"{'auditkit':>15}: model FLOPs utilisation {mfu:.1%} (executed tokens {executed})")
        print(f"{'batch sizes':>15}: {sorted(set(engine.stats.batch_sizes))}")


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    result: Any

    def best(self, other: Timing) -> Timing:
        return Timing(min(self.wall, other.wall), min(self.cpu, other.cpu), self.result)


def _timed(work: Any, device: str) -> Timing:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, result)


def _float64_truth(model: Any, pairs: list[tuple[list[int], list[int]]]) -> list[float]:
    """Each pair's log-likelihood from a float64 copy of ``model``, one unpadded row at a time."""
    import copy

    import torch

    exact = copy.deepcopy(model).to(torch.float64)
    device = next(exact.parameters()).device
    totals = []
    with torch.inference_mode():
        for context, continuation in pairs:
            ids = torch.tensor([(context + continuation)[:-1]], device=device)
            logprobs = exact(input_ids=ids).logits[0, len(context) - 1 :].log_softmax(-1)
            target = torch.tensor(continuation, device=device)
            totals.append(float(logprobs.gather(-1, target[:, None]).sum()))
    del exact
    return totals


def _agreement(
    reference: list[tuple[float, bool]], ours: list[tuple[float, bool]], sizes: list[int]
) -> tuple[float, float, float]:
    same = 0
    start = 0
    for size in sizes:
        a = [ll for ll, _ in reference[start : start + size]]
        b = [ll for ll, _ in ours[start : start + size]]
        same += a.index(max(a)) == b.index(max(b))
        start += size
    largest = max(abs(a[0] - b[0]) for a, b in zip(reference, ours, strict=True))
    greedy = sum(a[1] == b[1] for a, b in zip(reference, ours, strict=True)) / len(ours)
    return same / len(sizes), largest, greedy


if __name__ == "__main__":
    main()
