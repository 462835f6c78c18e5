"""Sampling k continuations per item, reproducibly, for the probes that sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from auditkit.engine.sampling import SamplingRequest, derive_seed, sample
from auditkit.probes.base import ProbeContext


class SamplingSettings(Protocol):
    """The spec fields a sampling probe declares (each with its own default)."""

    @property
    def k(self) -> int: ...
    @property
    def temperature(self) -> float: ...
    @property
    def top_p(self) -> float: ...
    @property
    def max_new_tokens(self) -> int: ...


def sample_per_item(
    ctx: ProbeContext,
    kind: str,
    item_ids: Sequence[str],
    prompts: Sequence[str],
    settings: SamplingSettings,
) -> list[list[str]]:
    """``settings.k`` continuations of each prompt, reporting progress per prompt.

    Each item's seed derives from the suite's seed, the probe kind and the item's id, so a rerun,
    or a run with other items beside it, gives the item the same samples.
    """
    requests = [
        SamplingRequest(
            prompt,
            n=settings.k,
            temperature=settings.temperature,
            top_p=settings.top_p,
            max_new_tokens=settings.max_new_tokens,
            seed=derive_seed(ctx.seed, kind, item_id),
        )
        for item_id, prompt in zip(item_ids, prompts, strict=True)
    ]
    ctx.set_total(len(requests))
    return sample(ctx.model, requests, progress=ctx.advance)
