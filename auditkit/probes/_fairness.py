"""Group comparisons for the bias probes, and the metric rows they become: fairlearn's
``MetricFrame`` for the point estimates, seeded numpy bootstraps for the intervals.

fairlearn's own bootstrap (``n_boot``) resamples rows independently. In counterfactual data every
template appears once per group, so ``template_gaps`` resamples *templates* (each keeps all its
groups: a cluster bootstrap), which keeps the comparison paired. ``classifier_gaps`` resamples
rows, which fits independent labelled sentences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from auditkit.results import Direction, Metric, Unit

RESAMPLES = 1000
LEVEL = 0.95


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (math.nan, math.nan)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return (float(low), float(high))


def _ratio(low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """min / max, defined as 1 when both are 0 (all groups equal at zero)."""
    low_a, high_a = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    safe = np.where(high_a == 0, 1.0, high_a)
    return np.where(high_a == 0, 1.0, low_a / safe)


@dataclass(frozen=True)
class GroupGaps:
    """By-group means of one measure and how far apart the groups are."""

    groups: list[str]
    means: list[float]
    mean_ci: list[tuple[float, float]]
    difference: float
    """Largest minus smallest group mean (fairlearn ``difference(method="between_groups")``)."""
    difference_ci: tuple[float, float]
    ratio: float
    """Smallest over largest group mean (fairlearn ``ratio()``); 1 when both are 0."""
    ratio_ci: tuple[float, float]
    n: int
    """Templates (clusters) the estimate rests on."""


def template_gaps(matrix: np.ndarray, groups: list[str], *, seed: int) -> GroupGaps:
    """Gaps between the columns (groups) of a templates × groups matrix of per-row scores."""
    from fairlearn.metrics import MetricFrame

    n_templates, n_groups = matrix.shape
    frame = MetricFrame(
        metrics=lambda y_true, y_pred: float(np.mean(y_pred)),
        y_true=matrix.ravel(),
        y_pred=matrix.ravel(),
        sensitive_features=np.tile(np.array(groups, dtype=object), n_templates),
    )
    by_group = frame.by_group
    means = [float(by_group[g]) for g in groups]
    difference = float(frame.difference(method="between_groups"))
    ratio = float(_ratio(min(means), max(means)))

    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_templates, size=(RESAMPLES, n_templates))
    boot = matrix[picks].mean(axis=1)  # resamples × groups
    high, low = boot.max(axis=1), boot.min(axis=1)
    return GroupGaps(
        groups=groups,
        means=means,
        mean_ci=[_quantiles(boot[:, j]) for j in range(n_groups)],
        difference=difference,
        difference_ci=_quantiles(high - low),
        ratio=ratio,
        ratio_ci=_quantiles(_ratio(low, high)),
        n=n_templates,
    )


def group_mean_metrics(
    name: str, key: str, direction: Direction, category: str, gaps: GroupGaps, unit: Unit
) -> list[Metric]:
    """The mean of ``name`` (in ``unit``) for every group of ``category``, with template-bootstrap
    intervals."""
    return [
        Metric(
            name=name,
            value=value,
            ci_low=low,
            ci_high=high,
            n=gaps.n,
            direction=direction,
            interval="bootstrap-templates",
            description=f"mean {name.replace('_', ' ')} for '{term}' ({category})",
            per_item=key,
            group=f"{category}/{term}",
            unit=unit,
        )
        for term, value, (low, high) in zip(gaps.groups, gaps.means, gaps.mean_ci, strict=True)
    ]


def gap_metric(
    name: str,
    kind: Literal["difference", "ratio"],
    gaps: GroupGaps,
    category: str,
    overall: bool,
    unit: Unit,
) -> Metric:
    """``NAME_difference`` (in ``unit``, the group means' unit) or ``NAME_ratio`` (unitless) for
    one category, or (``overall``) for the worst category standing for all of them."""
    where = f"(worst category: {category})" if overall else f"in {category}"
    value, (low, high) = (
        (gaps.difference, gaps.difference_ci)
        if kind == "difference"
        else (gaps.ratio, gaps.ratio_ci)
    )
    words = "largest minus smallest" if kind == "difference" else "smallest over largest"
    return Metric(
        name=f"{name}_{kind}",
        value=value,
        ci_low=low,
        ci_high=high,
        n=gaps.n,
        direction="lower" if kind == "difference" else "higher",
        interval="bootstrap-templates",
        description=f"{words} group mean of {name} {where}",
        group=None if overall else category,
        unit=unit if kind == "difference" else "score",
    )


@dataclass(frozen=True)
class ClassifierGaps:
    """fairlearn's group-fairness measures of binary predictions, with bootstrap intervals."""

    demographic_parity_difference: float
    demographic_parity_ci: tuple[float, float]
    equalized_odds_difference: float
    equalized_odds_ci: tuple[float, float]


def _rates(
    y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group selection rate, TPR and FPR (NaN where a group has no rows of that kind)."""
    count = np.bincount(codes, minlength=n_groups).astype(float)
    positives = np.bincount(codes, weights=y_true, minlength=n_groups)
    negatives = count - positives
    selected = np.bincount(codes, weights=y_pred, minlength=n_groups)
    hits = np.bincount(codes, weights=y_true * y_pred, minlength=n_groups)
    false_alarms = selected - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return selected / count, hits / positives, false_alarms / negatives


def _spread(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if finite.size else math.nan


def _worst_spread(tpr: np.ndarray, fpr: np.ndarray) -> float:
    spreads = [s for s in (_spread(tpr), _spread(fpr)) if not math.isnan(s)]
    return max(spreads) if spreads else math.nan


def classifier_gaps(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, *, seed: int
) -> ClassifierGaps:
    """Demographic parity and equalized odds differences, with row bootstraps.

    The rates come from fairlearn's ``MetricFrame`` (selection rate, true- and false-positive
    rates by group). A group that has no positives (or no negatives) has no true-positive (or
    false-positive) rate and is left out of that spread, rather than counted as a rate of 0 as
    fairlearn's ``equalized_odds_difference`` does; where every group has both classes the two
    agree. Resamples follow the same rule.
    """
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    frame = MetricFrame(
        metrics={
            "selection": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
        },
        y_true=y_true.astype(int),
        y_pred=y_pred.astype(int),
        sensitive_features=groups,
    ).by_group
    has_positive = frame.index.map(lambda g: bool(y_true[groups == g].any()))
    has_negative = frame.index.map(lambda g: bool((~y_true.astype(bool))[groups == g].any()))
    dpd = _spread(frame["selection"].to_numpy(dtype=float))
    tpr = np.where(has_positive, frame["tpr"].to_numpy(dtype=float), np.nan)
    fpr = np.where(has_negative, frame["fpr"].to_numpy(dtype=float), np.nan)
    eod = _worst_spread(tpr, fpr)
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    rng = np.random.default_rng(seed)
    dpd_boot, eod_boot = [], []
    truth, pred = y_true.astype(float), y_pred.astype(float)
    for _ in range(RESAMPLES):
        pick = rng.integers(0, y_true.size, size=y_true.size)
        selection, tpr, fpr = _rates(truth[pick], pred[pick], codes[pick], n_groups)
        dpd_boot.append(_spread(selection))
        eod_boot.append(_worst_spread(tpr, fpr))
    return ClassifierGaps(
        demographic_parity_difference=dpd,
        demographic_parity_ci=_quantiles(np.array(dpd_boot)),
        equalized_odds_difference=eod,
        equalized_odds_ci=_quantiles(np.array(eod_boot)),
    )
