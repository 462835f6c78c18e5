"""Metric builders shared by the hallucination, bias and toxicity probes.

Proportions get a 95% Wilson interval and are shares; means of per-item scores a seeded percentile
bootstrap over items, in the unit the caller names. Every builder takes the per-item values in
item order, so a metric's value always equals the mean of its ``per_item`` score over the items
that carry it (what paired comparison needs).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import TypeVar

import numpy as np

from auditkit.results import Direction, Metric, Unit
from auditkit.stats import bootstrap_mean_interval, wilson_interval

T = TypeVar("T")


def proportion(
    name: str,
    hits: Sequence[bool],
    *,
    direction: Direction,
    description: str,
    per_item: str | None,
    group: str | None = None,
) -> Metric:
    """Share of ``hits`` that are true, with its Wilson interval (NaN with no items)."""
    n = len(hits)
    successes = int(sum(bool(h) for h in hits))
    low, high = wilson_interval(successes, n)
    return Metric(
        name=name,
        value=successes / n if n else math.nan,
        ci_low=low,
        ci_high=high,
        n=n,
        direction=direction,
        interval="wilson",
        description=description,
        per_item=per_item,
        group=group,
        unit="share",
    )


def mean(
    name: str,
    values: Sequence[float],
    *,
    seed: int,
    unit: Unit,
    direction: Direction,
    description: str,
    per_item: str | None,
    group: str | None = None,
) -> Metric:
    """Mean of ``values`` in ``unit`` with a seeded percentile bootstrap interval (NaN with no
    items)."""
    data = np.asarray(values, dtype=np.float64)
    low, high = bootstrap_mean_interval(data.tolist(), seed=seed)
    return Metric(
        name=name,
        value=float(data.mean()) if data.size else math.nan,
        ci_low=low,
        ci_high=high,
        n=int(data.size),
        direction=direction,
        interval="bootstrap",
        description=description,
        per_item=per_item,
        group=group,
        unit=unit,
    )


def by_group(keys: Sequence[Hashable], values: Sequence[T]) -> dict[str, list[T]]:
    """``values`` split by their ``keys`` (sorted by key), ignoring items without a key."""
    groups: dict[str, list[T]] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None and key != "":
            groups.setdefault(str(key), []).append(value)
    return dict(sorted(groups.items()))


def proportion_per_group(
    name: str,
    keys: Sequence[Hashable],
    hits: Sequence[bool],
    *,
    direction: Direction,
    description: str,
    per_item: str | None,
) -> list[Metric]:
    """``proportion`` of ``hits`` within every group of ``keys`` (the group appended to the
    description in parentheses), sorted by group."""
    return [
        proportion(
            name,
            group_hits,
            direction=direction,
            description=f"{description} ({group})",
            per_item=per_item,
            group=group,
        )
        for group, group_hits in by_group(keys, hits).items()
    ]
