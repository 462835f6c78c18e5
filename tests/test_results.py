"""Metric units and interval names, and reading results written before either existed."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from auditkit.results import (
    INTERVAL_METHODS,
    IntervalMethod,
    Metric,
    interval_text,
    parse_interval,
)

OLD_INTERVALS: list[tuple[str, IntervalMethod, str | None]] = [
    ("", "none", None),
    ("wilson", "wilson", None),
    ("bootstrap", "bootstrap", None),
    ("bootstrap over templates", "bootstrap-templates", None),
    (
        "percentile bootstrap over runs (1000 resamples)",
        "percentile-bootstrap-runs",
        "1000 resamples",
    ),
    ("order statistics (distribution-free, ≥95%)", "order-statistics", "distribution-free, ≥95%"),
    ("wilson, mapped through |p - 0.5|", "wilson-mapped", "|p - 0.5|"),
    (
        "bootstrap over items and the abstention judge's 121 held-out rows",
        "corrected-bootstrap",
        "the abstention judge's 121 held-out rows",
    ),
    (
        "bootstrap over items and the short_answer judge's 240 validation rows",
        "corrected-bootstrap",
        "the short_answer judge's 240 validation rows",
    ),
    ("lm-eval stderr × 1.96", "lm-eval-stderr", None),
    ("jackknife over folds", "other", "jackknife over folds"),
]
"""Free texts that results files held before interval methods had names, with what they mean."""


def old_metric(**fields: Any) -> dict[str, Any]:
    """A metric as ``results.json`` held it before units and interval names."""
    return {
        "name": "accuracy",
        "value": 0.5,
        "ci_low": 0.4,
        "ci_high": 0.6,
        "n": 100,
        "direction": "higher",
        "interval": "wilson",
        "description": "",
        "per_item": "correct",
        "group": None,
        **fields,
    }


@pytest.mark.parametrize(("text", "method", "detail"), OLD_INTERVALS)
def test_old_interval_texts_read_as_names_and_render_the_same(
    text: str, method: IntervalMethod, detail: str | None
) -> None:
    assert parse_interval(text) == (method, detail)
    assert interval_text(method, detail) == text
    metric = Metric.model_validate(old_metric(interval=text))
    assert (metric.interval, metric.interval_detail, metric.unit) == (method, detail, None)
    assert metric.interval_text == text


def test_an_old_results_metric_loads_from_json() -> None:
    text = json.dumps(old_metric(interval="bootstrap over templates", value=None))
    metric = Metric.model_validate_json(text)
    assert math.isnan(metric.value)
    assert (metric.interval, metric.interval_detail, metric.unit) == (
        "bootstrap-templates",
        None,
        None,
    )


def test_every_method_renders_and_parses_back() -> None:
    for method in INTERVAL_METHODS:
        for detail in (None, "some detail"):
            text = interval_text(method, detail)
            if method == "none" and detail is not None:
                continue  # "none" with a detail reads as a method auditkit does not name
            expected = ("none", None) if method == "other" and detail is None else (method, detail)
            assert parse_interval(text) == expected, (method, detail)


def test_a_new_metric_round_trips_with_its_unit_and_named_interval() -> None:
    metric = Metric(
        name="prefill_ms",
        value=12.5,
        ci_low=11.0,
        ci_high=14.0,
        n=10,
        direction="lower",
        interval="percentile-bootstrap-runs",
        interval_detail="1000 resamples",
        unit="ms",
    )
    data = json.loads(metric.model_dump_json())
    assert (data["unit"], data["interval"], data["interval_detail"]) == (
        "ms",
        "percentile-bootstrap-runs",
        "1000 resamples",
    )
    assert Metric.model_validate(data) == metric
    assert metric.interval_text == "percentile bootstrap over runs (1000 resamples)"


def test_units_and_interval_names_are_closed_sets() -> None:
    with pytest.raises(ValueError, match="unit"):
        Metric.model_validate(old_metric(unit="furlongs"))
    with pytest.raises(ValueError, match="interval"):
        # A named method's detail is given: the free-text reading does not apply.
        Metric.model_validate(old_metric(interval="wilsonish", interval_detail="x"))
