from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

from auditkit.report.charts import (
    Bar,
    Point,
    bar_chart,
    clip_label,
    linear,
    nice_ticks,
    scatter_chart,
    tick_text,
)
from auditkit.report.figures import cost_figures, metric_figures, quality_metric
from auditkit.results import AuditResult, Metric, ProbeResult, ProbeSummary

if TYPE_CHECKING:
    from tests.report.conftest import Build

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def _parse(svg: str) -> ET.Element:
    """The chart as XML: it must be well-formed on its own."""
    return ET.fromstring(svg)


def _texts(svg: str) -> list[str]:
    return [el.text or "" for el in _parse(svg).iter("text")]


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.0, 0.761, [0.0, 0.2, 0.4, 0.6, 0.8]),
        (0.37, 0.66, [0.3, 0.4, 0.5, 0.6, 0.7]),
        (0.37, 0.46, [0.36, 0.38, 0.4, 0.42, 0.44, 0.46]),
        (-0.26, 0.02, [-0.3, -0.2, -0.1, 0.0, 0.1]),
        (0.0, 11.0, [0.0, 2.5, 5.0, 7.5, 10.0, 12.5]),
        (5.0, 5.0, [4.4, 4.6, 4.8, 5.0, 5.2, 5.4, 5.6]),
        (0.0, 0.0, [-0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6]),
        (math.nan, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (1.0, 0.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_nice_ticks(low: float, high: float, ticks: list[float]) -> None:
    assert nice_ticks(low, high) == pytest.approx(ticks)


def test_linear_maps_ends_and_survives_a_zero_domain() -> None:
    scale = linear((0.0, 1.0), (100.0, 500.0))
    assert (scale(0.0), scale(0.5), scale(1.0)) == (100.0, 300.0, 500.0)
    assert linear((2.0, 2.0), (0.0, 10.0))(2.0) == 0.0


@pytest.mark.parametrize(
    ("value", "step", "percent", "text"),
    [(0.4, 0.2, True, "40%"), (0.45, 0.05, True, "45%"), (0.025, 0.005, True, "2.5%"),
     (0.25, 0.25, False, "0.25"), (0.5, 0.25, False, "0.50"), (-0.1, 0.05, False, "−0.10"),
     (20.0, 10.0, False, "20"), (7.5, 2.5, False, "7.5")],
)  # fmt: skip
def test_tick_text(value: float, step: float, percent: bool, text: str) -> None:
    assert tick_text(value, step, percent) == text


def test_clip_label() -> None:
    assert clip_label("abc", 3) == "abc"
    assert clip_label("abcd", 3) == "ab…"


def test_bar_chart_rows_whiskers_and_labels() -> None:
    bars = [
        Bar("base", 0.615, 0.566, 0.661, "61.5%", highlight=True),
        Bar("cand", 0.42, 0.372, 0.469, "42.0%"),
    ]
    svg = bar_chart("mc: accuracy", bars, percent=True)
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "mc: accuracy"
    assert root.find("title") is not None
    assert root.find("title").text == "mc: accuracy"  # type: ignore[union-attr]
    rects = root.findall(".//rect")
    assert [r.get("class") for r in rects] == ["bar base", "bar"]
    assert len(root.findall(".//line[@class='whisker']")) == 6
    assert _texts(svg) == [
        "0%",
        "20%",
        "40%",
        "60%",
        "80%",
        "100%",
        "base",
        "61.5%",
        "cand",
        "42.0%",
    ]
    group_titles = [g.find("title").text for g in root.iter("g")]  # type: ignore[union-attr]
    assert group_titles == ["base: 61.5%", "cand: 42.0%"]


def test_bar_width_is_proportional_to_the_value() -> None:
    svg = bar_chart("t", [Bar("a", 0.5, text="50.0%"), Bar("b", 1.0, text="100.0%")], True)
    widths = [float(r.get("width") or 0) for r in _parse(svg).iter("rect")]
    assert widths[1] == pytest.approx(2 * widths[0])


def test_bar_chart_missing_nan_and_negative_values() -> None:
    bars = [
        Bar("nan", math.nan, text="NaN"),
        Bar("gone", None, text="error"),
        Bar("neg", -0.2, text="−0.200"),
    ]
    svg = bar_chart("t", bars)
    root = _parse(svg)
    assert len(root.findall(".//rect")) == 1
    missing = [el.text for el in root.iter("text") if el.get("class") == "missing"]
    assert missing == ["NaN", "error"]
    assert _texts(svg)[:5] == ["−0.20", "−0.15", "−0.10", "−0.05", "0.00"]  # below zero


def test_bar_chart_with_no_values_at_all_still_draws_an_axis() -> None:
    svg = bar_chart("t", [Bar("a", None, text="error")])
    assert _texts(svg)[:2] == ["0.0", "0.2"]


def test_chart_text_is_escaped() -> None:
    bar = bar_chart(XSS, [Bar(XSS, 0.5, text=XSS)])
    scatter = scatter_chart(XSS, XSS, XSS, [Point(XSS, 1.0, 0.5, text=XSS), Point(XSS, None, 1.0)])
    for svg in (str(bar), str(scatter)):
        assert "<script" not in svg
        assert "<img" not in svg
        assert "&lt;script&gt;" in svg
        assert re.search(r"<(?!/?(?:svg|title|g|rect|line|text|circle)\b)", svg) is None
        _parse(svg)


def test_scatter_places_points_and_names_the_ones_left_out() -> None:
    points = [
        Point("big", 0.5, 0.6, 0.55, 0.65, "60.0% at 0.500 GiB", highlight=True),
        Point("small", 0.1, 0.4, 0.35, 0.45, "40.0% at 0.100 GiB"),
        Point("no-size", None, 0.5),
        Point("nan", 0.2, math.nan),
    ]
    svg = scatter_chart("quality vs size", "size (GiB)", "accuracy", points, percent=True)
    root = _parse(svg)
    circles = root.findall(".//circle")
    assert [c.get("class") for c in circles] == ["dot base", "dot"]
    big, small = (float(c.get("cx") or 0) for c in circles)
    assert big > small
    big_y, small_y = (float(c.get("cy") or 0) for c in circles)
    assert big_y < small_y  # higher quality is drawn higher up
    texts = _texts(svg)
    assert "not shown (no value): no-size, nan" in texts
    assert "size (GiB)" in texts
    assert "accuracy" in texts
    assert len(root.findall(".//line[@class='whisker']")) == 6


def test_scatter_with_one_model() -> None:
    svg = scatter_chart("t", "x", "y", [Point("only", 0.3, 0.5, text="50.0%")], percent=True)
    root = _parse(svg)
    assert len(root.findall(".//circle")) == 1
    assert "only" in _texts(svg)


def test_scatter_without_any_plottable_point() -> None:
    svg = scatter_chart("t", "x", "y", [Point("a", None, None)])
    assert "no model has both values" in _texts(svg)
    assert _parse(svg).find(".//circle") is None


def test_close_labels_are_pushed_apart() -> None:
    points = [Point("a", 1.0, 0.5), Point("b", 1.0, 0.5001), Point("c", 1.0, 0.4999)]
    svg = scatter_chart("t", "x", "y", points)
    ys = sorted(
        float(el.get("y") or 0) for el in _parse(svg).iter("text") if el.get("class") == "label"
    )
    assert ys[1] - ys[0] >= 13 - 1e-6
    assert ys[2] - ys[1] >= 13 - 1e-6


# --- figures from results -------------------------------------------------------------------------


def test_metric_figures_per_probe_for_metrics_with_intervals(realistic_result: AuditResult) -> None:
    bundles = metric_figures(realistic_result)
    assert [(b.probe_id, [f.caption for f in b.figures]) for b in bundles] == [
        ("arc_easy", ["accuracy (higher is better)", "brier (lower is better)"]),
        ("truthfulqa_mc1", ["accuracy (higher is better)"]),
    ]
    truthful = str(bundles[1].figures[0].svg)
    missing = [el.text for el in _parse(truthful).iter("text") if el.get("class") == "missing"]
    assert missing == ["error"]
    assert 'aria-label="truthfulqa_mc1: accuracy by model, with 95% intervals"' in truthful


def test_bias_probes_get_per_group_bars_with_intervals(build: type[Build]) -> None:
    def grouped(value: float, group: str) -> Metric:
        return build.metric("stereotype_preference", value, group=group, ci_low=0.1, ci_high=0.9)

    models = [
        build.model("base", {"pairs": [grouped(0.6, "gender"), grouped(0.4, "age")]}),
        build.model("cand", {"pairs": [grouped(0.7, "gender")]}),
    ]
    result = build.result(models, ["pairs"], baseline="base")
    result = result.model_copy(
        update={"probes": [ProbeSummary(id="pairs", kind="bias.stereotype_pairs", params={})]}
    )
    (bundle,) = metric_figures(result)
    (figure,) = bundle.figures
    assert figure.caption == "stereotype_preference by group (higher is better)"
    labels = [el.text for el in _parse(str(figure.svg)).iter("text") if el.get("class") == "label"]
    assert labels == ["gender · base", "gender · cand", "age · base"]
    # a non-bias probe with the same grouped metrics gets no group chart
    assert metric_figures(build.result(models, ["pairs"])) == []


def test_no_bar_chart_for_metrics_without_intervals(build: type[Build]) -> None:
    models = [build.model("a", {"p": [build.metric("f1", 0.5)]})]
    assert metric_figures(build.result(models, ["p"])) == []


def test_quality_metric_is_the_first_probes_first_higher_metric(build: type[Build]) -> None:
    models = [
        build.model("a", {"p": [build.metric("loss", 0.3, direction="lower"), build.metric("f1")]}),
    ]
    chosen = quality_metric(build.result(models, ["p", "q"]))
    assert chosen is not None
    assert (chosen[0], chosen[1].name) == ("p", "f1")
    assert quality_metric(build.result([], [])) is None


def test_cost_figures_use_gib_and_seconds_per_item(realistic_result: AuditResult) -> None:
    size, latency = cost_figures(realistic_result)
    assert (size.caption, latency.caption) == ("Quality vs size on disk", "Quality vs latency")
    size_titles = [g.find("title").text for g in _parse(str(size.svg)).iter("g")]  # type: ignore[union-attr]
    assert size_titles == [
        "smollm2-135m: 61.5% at 0.501 GiB",
        "smollm2-135m-q4: 42.0% at 0.091 GiB",
        "smollm2-135m-lora: 60.3% at 0.508 GiB",
    ]
    latency_titles = [g.find("title").text for g in _parse(str(latency.svg)).iter("g")]  # type: ignore[union-attr]
    assert latency_titles == [
        "smollm2-135m: 61.5% at 0.240 s/item",
        "smollm2-135m-q4: 42.0% at 0.080 s/item",
        "smollm2-135m-lora: 60.3% at 0.253 s/item",
    ]


def test_cost_figures_skip_models_without_size_or_time(build: type[Build]) -> None:
    loaded = build.model("ok", {"p": [build.metric(value=0.5)]})
    timed = loaded.model_copy(
        update={
            "probes": [
                ProbeResult(probe_id="p", kind="mc", status="ok", metrics=[build.metric(value=0.6)],
                            n_samples=10, seconds=5.0)
            ],
            "model_id": "timed",
        }
    )  # fmt: skip
    failed = build.model("failed", load_error=build.error("gone", "OSError", "load"))
    size, latency = cost_figures(build.result([loaded, timed, failed], ["p"]))
    assert "not shown (no value): failed" in _texts(str(size.svg))
    assert "not shown (no value): ok, failed" in _texts(str(latency.svg))
    titles = [g.find("title").text for g in _parse(str(latency.svg)).iter("g")]  # type: ignore[union-attr]
    assert titles == ["timed: 0.600 at 0.500 s/item"]


def test_no_cost_figures_without_a_quality_metric(build: type[Build]) -> None:
    models = [build.model("a", {"p": [build.metric("loss", direction="lower")]})]
    assert cost_figures(build.result(models, ["p"])) == []


def test_cost_chart_without_any_point_is_left_out(build: type[Build]) -> None:
    models = [build.model("a", {"p": [build.metric(value=0.5)]})]  # no probe timings
    (size,) = cost_figures(build.result(models, ["p"]))
    assert size.caption == "Quality vs size on disk"
