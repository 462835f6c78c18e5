"""The metrics a ``generation`` probe names: reading each entry, loading the ``evaluate`` ones,
and turning an evaluate metric's results into ``Metric`` s with per-item scores.

``evaluate`` is imported (which takes seconds: it imports transformers) only when a suite names
such a metric. The definitions of what is reported are in the ``generation`` probe's docstring
(``auditkit.probes.reference_generation``).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from auditkit.errors import UserError
from auditkit.results import Direction, Metric
from auditkit.stats import BOOTSTRAP_RESAMPLES, bootstrap_interval, bootstrap_mean_interval

BUILTIN_METRICS = ("exact_match", "token_f1")
EVALUATE_PREFIX = "evaluate:"
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(?:/[A-Za-z0-9][\w.-]*)?")
OFFLINE_VARIABLES = ("HF_EVALUATE_OFFLINE", "HF_HUB_OFFLINE")
"""Either set to 1 (or on, yes, true) makes ``evaluate:NAME`` read evaluate's cache only and fail
at once without it (``evaluate`` itself reads only the first, and only when it is imported)."""
MEAN_TOLERANCE = 1e-9
"""A corpus value this close to the mean of the per-item values is that mean."""
CORPUS_RESAMPLES = BOOTSTRAP_RESAMPLES
"""Resamples of the bootstrap that recomputes a corpus-level metric (one ``compute`` each)."""
Scores = list[dict[str, float]]
"""Per-item scores by name, in item order (``Sample.scores``), filled in by each metric."""


@dataclass(frozen=True)
class MetricSource:
    """One ``metrics`` entry of the suite, read."""

    entry: str
    """As the spec holds it (a local path made absolute)."""
    kind: Literal["builtin", "hub", "local"]
    target: str
    """The built-in's name, the hub name (``bleu``, ``someone/metric``) or the module's path."""

    @property
    def name(self) -> str:
        """What its reported metrics are called: the built-in's name, the hub name's last part,
        or the local module's file (or folder) name without ``.py``."""
        return self.target.rstrip("/").rsplit("/", 1)[-1].removesuffix(".py")

    def script(self) -> Path:
        """A local module's script: the path itself, or ``<folder>/<folder name>.py``."""
        path = Path(self.target)
        return path if path.suffix == ".py" else path / f"{path.name}.py"


def metric_source(entry: str) -> MetricSource:
    """Read one ``metrics`` entry; ``ValueError`` for one of no known form."""
    if entry in BUILTIN_METRICS:
        return MetricSource(entry, "builtin", entry)
    if entry.startswith(EVALUATE_PREFIX):
        hub = entry.removeprefix(EVALUATE_PREFIX)
        if not _HUB_NAME.fullmatch(hub):
            raise ValueError(f"{entry!r}: write evaluate:NAME or evaluate:OWNER/NAME")
        return MetricSource(entry, "hub", hub)
    if "/" not in entry and not entry.endswith(".py"):
        raise ValueError(
            f"unknown metric {entry!r}: use {' or '.join(BUILTIN_METRICS)}, evaluate:NAME or the "
            f"path of a local evaluate module such as ./metrics/{entry}"
        )
    return MetricSource(entry, "local", entry)


def offline() -> bool:
    """Whether the environment asks for no network (``OFFLINE_VARIABLES``)."""
    values = (os.environ.get(name, "").strip().lower() for name in OFFLINE_VARIABLES)
    return any(value in {"1", "on", "yes", "true"} for value in values)


@contextmanager
def loaded_modules(sources: Sequence[MetricSource]) -> Iterator[list[tuple[MetricSource, Any]]]:
    """Each of ``sources`` loaded by ``evaluate.load``, its data kept in memory and anything it
    writes in a scratch folder removed afterwards; meanwhile evaluate's progress bars are off,
    and nothing is fetched when the environment says offline."""
    if not sources:
        yield []
        return
    import evaluate
    from evaluate import config as evaluate_config
    from evaluate.utils import logging as evaluate_logging

    was_offline = evaluate_config.HF_EVALUATE_OFFLINE
    bars = evaluate_logging.is_progress_bar_enabled()
    evaluate_config.HF_EVALUATE_OFFLINE = was_offline or offline()
    evaluate_logging.disable_progress_bar()
    try:
        with tempfile.TemporaryDirectory(prefix="auditkit-evaluate-") as scratch:
            yield [(source, _load(evaluate, source, scratch)) for source in sources]
    finally:
        evaluate_config.HF_EVALUATE_OFFLINE = was_offline
        if bars:
            evaluate_logging.enable_progress_bar()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _load(evaluate: Any, source: MetricSource, scratch: str) -> Any:
    """``evaluate.load`` of one metric, every failure a one-line ``UserError``."""
    what = f"metric {source.entry}"
    try:
        return evaluate.load(source.target, keep_in_memory=True, cache_dir=scratch)
    except ImportError as exc:
        raise UserError(
            f"{what} needs packages that are not installed: {_first_line(exc)}"
        ) from exc
    except (ConnectionError, FileNotFoundError) as exc:
        if source.kind == "local":
            raise UserError(f"{what}: cannot load: {_first_line(exc)}") from exc
        why = (
            "offline (HF_HUB_OFFLINE or HF_EVALUATE_OFFLINE is set)"
            if offline()
            else "the hub could not be reached or has no such metric"
        )
        raise UserError(
            f"{what} is not in evaluate's cache and {why}: name a local evaluate module "
            f"instead, e.g. ./metrics/{source.name}/{source.name}.py beside the suite"
        ) from exc
    except Exception as exc:  # a broken module script: its own error, on one line
        raise UserError(f"{what}: cannot load: {_first_line(exc)}") from exc


def _scalars(result: Mapping[str, Any] | None) -> dict[str, float]:
    """The entries of an evaluate result that are single numbers, as floats."""
    numbers = (bool, int, float, np.integer, np.floating)
    return {
        str(key): float(value)
        for key, value in (result or {}).items()
        if isinstance(value, numbers) or (isinstance(value, np.ndarray) and value.ndim == 0)
    }


def evaluate_metrics(
    source: MetricSource,
    module: Any,
    replies: Sequence[str],
    references: Sequence[list[str]],
    scores: Scores,
    *,
    seed: int,
    direction: Direction,
) -> list[Metric]:
    """Every scalar entry of one evaluate metric (see the probe's docstring); per-item values
    go into ``scores``."""
    predictions = [reply.strip() for reply in replies]
    single = all(len(refs) == 1 for refs in references)
    targets: list[Any] = [refs[0] for refs in references] if single else list(references)
    n = len(predictions)
    resampled: dict[bytes, dict[str, float]] = {}

    def compute(indices: Sequence[int]) -> dict[str, float]:
        try:
            result = module.compute(
                predictions=[predictions[i] for i in indices],
                references=[targets[i] for i in indices],
            )
        except Exception as exc:
            raise UserError(f"metric {source.entry}: compute failed: {_first_line(exc)}") from exc
        return _scalars(result)

    def corpus_on(key: str) -> Callable[[np.ndarray], float]:
        def statistic(indices: np.ndarray) -> float:
            # Each key's bootstrap draws the same resamples (same seed): compute each once.
            if indices.tobytes() not in resampled:
                resampled[indices.tobytes()] = compute(indices.tolist())
            return resampled[indices.tobytes()].get(key, math.nan)

        return statistic

    corpus = compute(range(n))
    if not corpus:
        raise UserError(f"metric {source.entry} returned no single numbers to report")
    per_item = [compute([i]) for i in range(n)]
    headline = source.name in corpus
    metrics = []
    for key, value in corpus.items():
        name = source.name if key == source.name else f"{source.name}/{key}"
        complete = n > 0 and all(key in item for item in per_item)
        values = np.array([item[key] for item in per_item] if complete else [], dtype=np.float64)
        for item_scores, item_value in zip(scores, values, strict=False):
            item_scores[name] = float(item_value)
        if complete and abs(value - values.mean()) <= MEAN_TOLERANCE * max(1.0, abs(value)):
            low, high = bootstrap_mean_interval(values.tolist(), seed=seed)
            how = "the mean of its per-item values"
        else:
            low, high = bootstrap_interval(corpus_on(key), n, seed=seed, resamples=CORPUS_RESAMPLES)
            how = "not the mean of its per-item values"
        metrics.append(
            Metric(
                name=name,
                value=value,
                ci_low=low,
                ci_high=high,
                n=n,
                direction=direction if key == source.name or not headline else "none",
                interval="bootstrap",
                description=f"{source.name} '{key}' from evaluate on all items (the corpus "
                f"value, {how})",
                per_item=name if complete else None,
                unit="score",
            )
        )
    return metrics
