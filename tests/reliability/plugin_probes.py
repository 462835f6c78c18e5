"""A probe kind for reliability tests, loaded as a plugin (``AUDITKIT_PLUGINS``).

``test_counted`` appends the model id to a log file every time it runs (so a test can count
recomputations), can wait while a marker file exists (so a test can kill a run at a known point
without timing guesses), and can crash its worker process in chosen ways. Its numbers come from
the model, so they differ between mock behaviours.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from auditkit.engine.base import GenerationRequest, LoglikelihoodRequest
from auditkit.probes.base import Probe, ProbeContext, ProbeOutput, ProbeSpec, Sample, register_probe
from auditkit.results import Metric
from auditkit.stats import wilson_interval

PROMPTS = ("Say: one\nthe cat", "Say: two\nthe dog", "Say: three\nI don't know.")


class CountedSpec(ProbeSpec):
    kind: Literal["test_counted"]
    log: str = Field(description="File that gets one line (the model id) per run.")
    hold: str | None = Field(None, description="While HOLD/<model id> exists, wait before running.")
    crash: dict[str, Literal["segv", "kill", "raise"]] = Field(default_factory=dict)


@register_probe
class Counted(Probe[CountedSpec]):
    """``echo_rate``: share of prompts whose greedy output repeats the prompt's last line."""

    kind = "test_counted"
    Spec = CountedSpec

    def known_metrics(self) -> dict[str, bool]:
        return {"echo_rate": True, "mean_logprob": False}

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        with open(self.spec.log, "a", encoding="utf-8") as log:
            log.write(f"{ctx.model_id}\n")
        if self.spec.hold is not None:
            marker = Path(self.spec.hold) / ctx.model_id
            while marker.exists():  # the test removes it (or kills this run)
                time.sleep(0.02)
        how = self.spec.crash.get(ctx.model_id)
        if how == "segv":
            ctypes.string_at(0)  # a real segmentation fault in native code
        elif how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does
        elif how == "raise":
            raise RuntimeError("counted probe failed on purpose")
        ctx.set_total(len(PROMPTS))
        outputs = ctx.model.generate([GenerationRequest(p, stop=("\n",)) for p in PROMPTS])
        scores = ctx.model.loglikelihood(
            [LoglikelihoodRequest(p, " " + o) for p, o in zip(PROMPTS, outputs, strict=True)]
        )
        ctx.advance(len(PROMPTS))
        echoes = [
            float(o.strip() == p.splitlines()[-1]) for p, o in zip(PROMPTS, outputs, strict=True)
        ]
        low, high = wilson_interval(int(sum(echoes)), len(echoes))
        mean_logprob = sum(s.logprob for s in scores) / len(scores)
        metrics = [
            Metric(
                name="echo_rate",
                value=sum(echoes) / len(echoes),
                ci_low=low,
                ci_high=high,
                n=len(echoes),
                direction="none",
                interval="wilson",
                per_item="echo",
            ),
            Metric(name="mean_logprob", value=mean_logprob, n=len(scores), direction="higher"),
        ]
        samples = [
            Sample(
                item_id=f"p{i}",
                input=prompt,
                output=output,
                target=prompt.splitlines()[-1],
                scores={"echo": echo},
                details={"logprob": score.logprob, "tokens": (score.n_tokens, i)},
            )
            for i, (prompt, output, echo, score) in enumerate(
                zip(PROMPTS, outputs, echoes, scores, strict=True)
            )
        ]
        return ProbeOutput(metrics, samples)
