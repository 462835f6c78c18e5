"""Metric builders shared by the probes: shares of items, means of per-item scores and other
statistics of the items.

Proportions get a 95% Wilson interval and are shares; means and other statistics a seeded
percentile bootstrap over items, in the unit the caller names. Every builder takes the per-item
values in item order, so a metric's value always equals the mean of its ``per_item`` score over
the items that carry it (what paired comparison needs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import numpy as np

from auditkit.results import Direction, Metric, Unit
from auditkit.stats import bootstrap_interval, wilson_interval

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
    return bootstrapped(
        name,
        lambda idx: float(data[idx].mean()),
        int(data.size),
        seed=seed,
        unit=unit,
        direction=direction,
        description=description,
        interval_detail=None,
        per_item=per_item,
        group=group,
    )


def bootstrapped(
    name: str,
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    seed: int,
    unit: Unit,
    direction: Direction,
    description: str,
    interval_detail: str | None,
    value: float | None = None,
    per_item: str | None = None,
    group: str | None = None,
) -> Metric:
    """``statistic`` (item indices → number) of all ``n`` items, with the seeded percentile
    bootstrap interval of ``statistic`` over the items resampled (NaN with no items). ``value``
    replaces the point estimate where the caller has it from elsewhere (scikit-learn)."""
    low, high = bootstrap_interval(statistic, n, seed=seed)
    if value is None:
        value = statistic(np.arange(n)) if n else math.nan
    return Metric(
        name=name,
        value=value,
        ci_low=low,
        ci_high=high,
        n=n,
        direction=direction,
        interval="bootstrap",
        interval_detail=interval_detail,
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
