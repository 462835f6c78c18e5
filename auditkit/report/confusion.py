"""Confusion matrices for the scorecard, from the samples of probes that declare them.

A probe that declares the ``confusion_matrix`` chart writes one sample per model with ``item_id``
``confusion_matrix`` and ``details`` ``{"labels": [...], "matrix": [[...]]}`` (rows: true label,
columns: predicted). The report reads them from ``samples.jsonl`` and checks their shape: a
malformed one is left out, never drawn wrong. Labels are text from the model's files: the
template escapes them like every other value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from auditkit.report.figures import declared_charts
from auditkit.results import AuditResult

CONFUSION_ITEM = "confusion_matrix"
MAX_LABELS = 30
"""Larger matrices are left out of the page (they stay in ``samples.jsonl``)."""


@dataclass(frozen=True)
class ConfusionRow:
    label: str
    counts: tuple[int, ...]
    correct: int
    total: int


@dataclass(frozen=True)
class ConfusionMatrix:
    probe_id: str
    model_id: str
    labels: tuple[str, ...]
    rows: tuple[ConfusionRow, ...]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)


def confusion_matrices(
    result: AuditResult, samples: Iterable[Mapping[str, Any]]
) -> list[ConfusionMatrix]:
    """Every well-formed confusion matrix of a probe that declares one, in suite and model
    order."""
    wanted = {p.id for p in result.probes if "confusion_matrix" in declared_charts(result, p.id)}
    if not wanted:
        return []
    found: dict[tuple[str, str], ConfusionMatrix] = {}
    for row in samples:
        if row.get("item_id") != CONFUSION_ITEM or row.get("probe_id") not in wanted:
            continue
        matrix = _matrix(str(row["probe_id"]), str(row.get("model_id", "")), row.get("details"))
        if matrix is not None:
            found[(matrix.probe_id, matrix.model_id)] = matrix
    order = [(p.id, m.model_id) for p in result.probes for m in result.models]
    return [found[key] for key in order if key in found]


def _matrix(probe_id: str, model_id: str, details: Any) -> ConfusionMatrix | None:
    if not isinstance(details, Mapping):
        return None
    labels, matrix = details.get("labels"), details.get("matrix")
    if not isinstance(labels, list) or not isinstance(matrix, list):
        return None
    size = len(labels)
    if not 0 < size <= MAX_LABELS or len(matrix) != size:
        return None
    rows = []
    for index, (label, counts) in enumerate(zip(labels, matrix, strict=True)):
        if not isinstance(counts, list) or len(counts) != size:
            return None
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            return None
        rows.append(ConfusionRow(str(label), tuple(counts), counts[index], sum(counts)))
    return ConfusionMatrix(probe_id, model_id, tuple(str(label) for label in labels), tuple(rows))
