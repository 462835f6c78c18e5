"""The metrics of the ``classification`` probe, from gold and predicted labels and the predicted
probabilities (definitions: ``auditkit.probes.classification.Classification``).

Point estimates of the macro and per-class scores come from scikit-learn (precision, recall and
F1); the bootstrap resamples recompute the same quantities from a confusion matrix in numpy, which
the tests check against scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from auditkit.probes._rates import bootstrapped, by_group, mean, proportion
from auditkit.results import Metric
from auditkit.stats import BOOTSTRAP_RESAMPLES, expected_calibration_error

CALIBRATION_BINS = 15
TEXT_RESAMPLES = f"{BOOTSTRAP_RESAMPLES} resamples of texts"
PRECISION, RECALL, F1 = 0, 1, 2
"""Positions in ``Outcome.class_scores``, as in scikit-learn's
``precision_recall_fscore_support``."""


class Outcome:
    """The gold and predicted label indices (into the model's labels), the probabilities and
    the slices of one run, and what follows from them."""

    def __init__(
        self,
        labels: list[str],
        truth: np.ndarray,
        predicted: np.ndarray,
        probabilities: np.ndarray,
        groups: list[str | None],
    ) -> None:
        self.labels = labels
        self.truth = truth
        self.predicted = predicted
        self.probabilities = probabilities
        self.groups = groups
        self.correct = (truth == predicted).astype(float)
        self.confidence = probabilities.max(axis=1) if truth.size else np.zeros(0)
        onehot = np.eye(len(labels))[truth]
        self.brier = ((probabilities - onehot) ** 2).sum(axis=1)
        self.classes = sorted(set(truth.tolist()))
        """The classes averaged over: gold labels present, in the model's label order."""

    @property
    def n(self) -> int:
        return int(self.truth.size)

    def score_of(self, which: int, at: int | None = None) -> Callable[[np.ndarray], float]:
        """The statistic ``texts → score`` for bootstraps: the class scores ``which``
        (``PRECISION``, ``RECALL``, ``F1``) of class number ``at`` of ``classes``, or their
        mean over the classes (the macro average) when ``at`` is ``None``."""

        def statistic(idx: np.ndarray) -> float:
            scores = self.class_scores(idx)[which]
            return float(scores.mean() if at is None else scores[at])

        return statistic

    def class_scores(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(P_k, R_k, F1_k) for every class of ``classes``, on the texts ``idx``."""
        k = len(self.labels)
        pairs = self.truth[idx] * k + self.predicted[idx]
        matrix = np.bincount(pairs, minlength=k * k).reshape(k, k)[self.classes]
        hits = matrix[np.arange(len(self.classes)), self.classes].astype(float)
        gold = matrix.sum(axis=1).astype(float)
        chosen = np.bincount(self.predicted[idx], minlength=k)[self.classes].astype(float)
        return _ratio(hits, chosen), _ratio(hits, gold), _ratio(2 * hits, chosen + gold)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, 0 where bottom is 0 (scikit-learn's ``zero_division=0``)."""
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)


def classification_metrics(outcome: Outcome, *, seed: int) -> list[Metric]:
    """Every metric of one run, overall first, then per class, then per slice."""
    from sklearn.metrics import precision_recall_fscore_support

    n = outcome.n
    truth, predicted = outcome.truth, outcome.predicted
    accuracy = proportion(
        "accuracy",
        [bool(c) for c in outcome.correct],
        direction="higher",
        description="share of texts whose most probable label is the gold label",
        per_item="correct",
    )
    metrics = [accuracy]
    macro = precision_recall_fscore_support(
        truth, predicted, labels=outcome.classes, average="macro", zero_division=0
    )
    for position, name in (
        (F1, "macro_f1"),
        (PRECISION, "macro_precision"),
        (RECALL, "macro_recall"),
    ):
        metrics.append(
            bootstrapped(
                name,
                outcome.score_of(position),
                n,
                seed=seed,
                unit="fraction",
                interval_detail=TEXT_RESAMPLES,
                direction="higher",
                description=f"unweighted mean over the {len(outcome.classes)} gold classes of "
                f"{name.removeprefix('macro_')}",
                value=float(macro[position]),
            )
        )
    metrics.append(
        bootstrapped(
            "ece",
            lambda idx: expected_calibration_error(
                outcome.confidence[idx], outcome.correct[idx], CALIBRATION_BINS
            ),
            n,
            seed=seed,
            unit="fraction",
            interval_detail=TEXT_RESAMPLES,
            direction="lower",
            description=f"expected calibration error of the top-label probability, "
            f"{CALIBRATION_BINS} equal-width bins",
        )
    )
    metrics.append(
        mean(
            "brier",
            outcome.brier.tolist(),
            seed=seed,
            unit="score",
            direction="lower",
            description="multi-class Brier score of the predicted distribution (0 best, 2 worst)",
            per_item="brier",
        )
    )
    per_class = precision_recall_fscore_support(
        truth, predicted, labels=outcome.classes, average=None, zero_division=0
    )
    metrics += _class_metrics(outcome, [float(f) for f in per_class[F1]], seed=seed)
    metrics += _slice_metrics(outcome, seed=seed)
    return metrics


def _class_metrics(outcome: Outcome, f1: list[float], *, seed: int) -> list[Metric]:
    """Precision, recall and F1 (``f1``, by class) of every class (metric ``group`` = the
    class)."""
    metrics: list[Metric] = []
    pairs = list(zip(outcome.truth, outcome.predicted, strict=True))
    for position, k in enumerate(outcome.classes):
        label = outcome.labels[k]
        for name, hits, description in (
            (
                "precision",
                [bool(t == k) for t, p in pairs if p == k],
                f"share of texts predicted {label} that are {label}",
            ),
            (
                "recall",
                [bool(p == k) for t, p in pairs if t == k],
                f"share of {label} texts predicted {label}",
            ),
        ):
            metrics.append(
                proportion(
                    name,
                    hits,
                    direction="higher",
                    description=description,
                    per_item="correct",
                    group=label,
                )
            )
        metrics.append(
            bootstrapped(
                "f1",
                outcome.score_of(F1, position),
                outcome.n,
                seed=seed,
                unit="fraction",
                interval_detail=TEXT_RESAMPLES,
                direction="higher",
                description=f"F1 of {label}: 2 TP / (predicted + gold)",
                value=f1[position],
                group=label,
            )
        )
    return metrics


def _slice_metrics(outcome: Outcome, *, seed: int) -> list[Metric]:
    """Accuracy per slice, and the gap between the best and the worst slice."""
    sliced = [(g, bool(c)) for g, c in zip(outcome.groups, outcome.correct, strict=True) if g]
    slices = by_group([g for g, _ in sliced], [c for _, c in sliced])
    metrics = [
        proportion(
            "accuracy",
            hits,
            direction="higher",
            description=f"accuracy on the {name} texts",
            per_item="correct",
            group=name,
        )
        for name, hits in slices.items()
    ]
    if len(slices) < 2:
        return metrics
    names = sorted(slices)
    codes = np.array([names.index(g) if g else -1 for g in outcome.groups])

    def gap(idx: np.ndarray) -> float:
        picked = codes[idx]
        inside = picked >= 0
        counts = np.bincount(picked[inside], minlength=len(names))
        hits = np.bincount(
            picked[inside], weights=outcome.correct[idx][inside], minlength=len(names)
        )
        rates = hits[counts > 0] / counts[counts > 0]
        return float(rates.max() - rates.min()) if rates.size else math.nan

    value = max(m.value for m in metrics) - min(m.value for m in metrics)
    metrics.append(
        bootstrapped(
            "accuracy_group_gap",
            gap,
            outcome.n,
            seed=seed,
            unit="fraction",
            interval_detail=TEXT_RESAMPLES,
            direction="lower",
            description=f"largest minus smallest accuracy across the {len(names)} slices",
            value=value,
        )
    )
    return metrics
