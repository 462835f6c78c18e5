"""The sentences a run prints on its progress display: a loaded model, a finished probe.

Metric values read as the scorecard writes them (``58.5%``, ``513.1 MiB``, ``734.8 ms``), so
the terminal and the report agree. The rules are kept here rather than imported from
``auditkit.report``: the run sits below the report layer and must not depend on it.
"""

from __future__ import annotations

from auditkit.metric_format import format_value
from auditkit.results import ModelInfo
from auditkit.worker import ProbeOutcome

HEADLINE_METRICS = 3
"""How many whole-probe metrics a finished probe's line shows."""


def loaded_lines(model_id: str, info: ModelInfo) -> list[str]:
    """What a loaded model is and how long loading took, then its notes, one line each."""
    runtime = "" if info.runtime == "transformers" else f" ({info.runtime})"
    built = info.runtime_detail.get("export")
    loaded = (
        f"loaded {model_id}: {info.architecture}, {info.parameters / 1e6:.1f}M "
        f"parameters, {info.dtype} on {info.device}{runtime} in {info.load_seconds:.1f}s"
        + (f" (ONNX graph {built})" if built else "")
    )
    return [loaded, *(f"  note: {note}" for note in info.notes)]


def outcome_line(model_id: str, probe_id: str, outcome: ProbeOutcome, cached: bool) -> str | None:
    """A finished probe's headline metrics and time (or ``cached``); ``None`` for an error,
    which is reported on its own line."""
    if outcome.error is not None:
        return None
    headline = ", ".join(
        f"{m.name}={format_value(m)}" for m in outcome.metrics[:HEADLINE_METRICS] if m.group is None
    )
    where = "cached" if cached else f"{outcome.seconds:.1f}s"
    return f"{model_id} × {probe_id}: {headline} ({where})"
