"""The harness's own overhead on the quickstart-style audit.

Run from the repository root:

    python benchmarks/overhead.py                  # SmolLM2 float32, 200 built-in questions
    python benchmarks/overhead.py --limit 50       # a quicker run on the first 50 questions

Runs a one-model audit (the packaged SmolLM2 in float32 on the CPU, auditkit's built-in
multiple-choice set) through the real runner, with timers around every call of the model's
forward pass. Overhead = wall time not spent inside forward passes, as a share of the wall time:

- probe overhead: over the multiple-choice probe (tokenisation, batching, scoring, statistics);
- audit overhead: over the whole audit minus model loading (which is the model library's work),
  i.e. probe plus judging results and writing the report files.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import SMOLLM2

SUITE = """\
schema_version: 1
name: overhead
seed: 1234
device: {device}
models:
  - id: smollm2-f32
    source: {source}
    dtype: float32
probes:
  - id: knowledge
    kind: multiple_choice
{limit}"""


class ForwardTimer:
    """Sums the wall time spent inside a module's forward calls (outermost calls only)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._depth = 0
        self._started = 0.0

    def attach(self, module: Any) -> None:
        module.register_forward_pre_hook(self._before)
        module.register_forward_hook(self._after)

    def _before(self, *_: Any) -> None:
        if self._depth == 0:
            self._started = time.perf_counter()
        self._depth += 1

    def _after(self, *_: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._started
            self.calls += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N questions")
    args = parser.parse_args()

    from auditkit import runner
    from auditkit.progress import LogProgress
    from auditkit.suite import load_suite

    timer = ForwardTimer()
    real_load = runner.load_model

    def load_and_time(*load_args: Any, **kwargs: Any) -> Any:
        loaded = real_load(*load_args, **kwargs)
        timer.attach(loaded.engine.model)  # type: ignore[attr-defined]
        return loaded

    runner.load_model = load_and_time  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "suite.yaml"
        limit = f"    limit: {args.limit}\n" if args.limit else ""
        path.write_text(SUITE.format(device=args.device, source=SMOLLM2, limit=limit))
        suite = load_suite(path)
        started = time.perf_counter()
        result = runner.AuditRun(suite, Path(folder) / "out", LogProgress(io.StringIO())).execute()
        total = time.perf_counter() - started
    model = result.models[0]
    if model.info is None or not model.probes or model.probes[0].status != "ok":
        raise SystemExit(f"the audit failed: {result.errors}")
    load = model.info.load_seconds
    probe = model.probes[0].seconds
    forward = timer.seconds
    accuracy = model.probes[0].metric("accuracy")
    print(
        f"audit of {model.info.architecture} ({model.info.parameters / 1e6:.1f}M parameters, "
        f"{model.info.dtype}, {model.info.device}); {model.probes[0].n_samples} questions; "
        f"accuracy {accuracy.value if accuracy else float('nan'):.3f}"
    )
    print(f"forward passes: {timer.calls}, {forward:.2f} s")
    print(f"probe:  {probe:7.2f} s wall; overhead {(probe - forward) / probe:6.1%}")
    audit = total - load
    print(
        f"audit:  {audit:7.2f} s wall without the {load:.1f} s model load; "
        f"overhead {(audit - forward) / audit:6.1%}"
    )


if __name__ == "__main__":
    main()
