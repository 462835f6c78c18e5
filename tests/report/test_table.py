from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from auditkit.metric_format import format_interval, format_number, format_value, is_percentage
from auditkit.report.table import Cell, build_comparison, error_line, format_mib, format_parameters
from auditkit.results import Direction, Unit

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _row_cells(build: type[Build], direction: Direction, values: list[float]) -> list[Cell]:
    models = [
        build.model(f"m{i}", {"p": [build.metric("score", v, direction=direction)]})
        for i, v in enumerate(values)
    ]
    (row,) = build_comparison(build.result(models, ["p"])).rows
    return list(row.cells)


def _best(cells: list[Cell]) -> list[bool]:
    return [c.best for c in cells]


# --- best cell ----------------------------------------------------------------------------------


def test_best_is_the_highest_when_higher_is_better(build: type[Build]) -> None:
    assert _best(_row_cells(build, "higher", [0.2, 0.9, 0.5])) == [False, True, False]


def test_best_is_the_lowest_when_lower_is_better(build: type[Build]) -> None:
    assert _best(_row_cells(build, "lower", [0.2, 0.9, 0.5])) == [True, False, False]


def test_no_best_without_a_direction(build: type[Build]) -> None:
    assert _best(_row_cells(build, "none", [0.2, 0.9, 0.5])) == [False, False, False]


def test_ties_are_all_best(build: type[Build]) -> None:
    assert _best(_row_cells(build, "higher", [0.7, 0.3, 0.7])) == [True, False, True]


def test_float_noise_still_ties(build: type[Build]) -> None:
    assert _best(_row_cells(build, "higher", [0.1 + 0.2, 0.3])) == [True, True]


def test_no_best_with_a_single_model(build: type[Build]) -> None:
    assert _best(_row_cells(build, "higher", [0.9])) == [False]


def test_nan_is_never_best_and_leaves_one_rival_unmarked(build: type[Build]) -> None:
    cells = _row_cells(build, "higher", [math.nan, 0.4])
    assert [c.state for c in cells] == ["nan", "ok"]
    assert _best(cells) == [False, False]


# --- cell states --------------------------------------------------------------------------------


def test_missing_error_and_nan_cells(build: type[Build]) -> None:
    models = [
        build.model("full", {"p": [build.metric("accuracy", 0.6), build.metric("brier", 0.3)]}),
        build.model("partial", {"p": [build.metric("accuracy", 0.5)]}),
        build.model("broken", load_error=build.error("no such file", "FileNotFoundError", "load")),
        build.model("failed", probe_errors={"p": build.error("CUDA out of memory\nat line 3")}),
        build.model("undefined", {"p": [build.metric("accuracy", math.nan)]}),
    ]
    comparison = build_comparison(build.result(models, ["p"]))
    accuracy, brier = comparison.rows

    assert [c.state for c in accuracy.cells] == ["ok", "ok", "error", "error", "nan"]
    assert [c.state for c in brier.cells] == ["ok", "missing", "error", "error", "missing"]
    assert accuracy.cells[2].error == "FileNotFoundError: no such file"
    assert accuracy.cells[3].error == "RuntimeError: CUDA out of memory"
    assert accuracy.cells[4].value == "NaN"
    assert accuracy.cells[4].n == 200
    assert _best(list(accuracy.cells)) == [True, False, False, False, False]
    assert _best(list(brier.cells)) == [False] * 5


def test_model_without_the_probe_is_missing(build: type[Build]) -> None:
    models = [
        build.model("a", {"p": [build.metric()], "q": [build.metric("f1")]}),
        build.model("b", {"p": [build.metric()]}),
    ]
    rows = build_comparison(build.result(models, ["p", "q"])).rows
    assert [c.state for c in rows[1].cells] == ["ok", "missing"]


# --- order and groups ---------------------------------------------------------------------------


def test_rows_follow_suite_order_then_first_seen_metric_order(build: type[Build]) -> None:
    models = [
        build.model("a", {"second": [build.metric("y")], "first": [build.metric("b")]}),
        build.model("b", {"first": [build.metric("a"), build.metric("b")]}),
    ]
    comparison = build_comparison(build.result(models, ["first", "second"]))
    assert comparison.models == ("a", "b")
    assert [(r.probe_id, r.metric) for r in comparison.rows] == [
        ("first", "b"),
        ("first", "a"),
        ("second", "y"),
    ]


def test_grouped_rows_are_kept_apart(build: type[Build]) -> None:
    metrics = [
        build.metric("accuracy", 0.6, interval="wilson"),
        build.metric("accuracy", 0.8, group="history", interval="wilson"),
        build.metric("accuracy", 0.4, group="science", interval="wilson"),
    ]
    other = [build.metric("accuracy", 0.5, group="history", interval="wilson")]
    models = [build.model("a", {"p": metrics}), build.model("b", {"p": other})]
    comparison = build_comparison(build.result(models, ["p"]))

    assert [(r.metric, r.group) for r in comparison.rows] == [("accuracy", None)]
    assert [(r.metric, r.group) for r in comparison.group_rows] == [
        ("accuracy", "history"),
        ("accuracy", "science"),
    ]
    history, science = comparison.group_rows
    assert [c.value for c in history.cells] == ["80.0%", "50.0%"]
    assert _best(list(history.cells)) == [True, False]
    assert [c.state for c in science.cells] == ["ok", "missing"]
    assert [p for p, _ in comparison.groups_by_probe()] == ["p"]


def test_row_carries_description_interval_and_arrow(build: type[Build]) -> None:
    metric = build.metric(
        "brier", 0.2, direction="lower", interval="bootstrap", description="Brier score"
    )
    (row,) = build_comparison(build.result([build.model("a", {"p": [metric]})], ["p"])).rows
    assert (row.description, row.interval_method, row.arrow) == ("Brier score", "bootstrap", "↓")


# --- formatting ---------------------------------------------------------------------------------


def test_wilson_proportions_are_percentages(build: type[Build]) -> None:
    metric = build.metric(value=0.615, ci_low=0.5463, ci_high=0.6804, interval="wilson")
    assert format_value(metric) == "61.5%"
    assert format_interval(metric) == "[54.6, 68.0]"


def test_other_intervals_are_three_decimals(build: type[Build]) -> None:
    metric = build.metric(value=0.41234, ci_low=0.3712, ci_high=0.45549, interval="bootstrap")
    assert format_value(metric) == "0.412"
    assert format_interval(metric) == "[0.371, 0.455]"


def test_wilson_outside_unit_range_is_not_a_percentage(build: type[Build]) -> None:
    assert format_value(build.metric(value=1.5, interval="wilson")) == "1.500"


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("parameter_bytes", 538_060_032, "513.1 MiB"),
        ("parameter_bytes/float32", 113_386_752, "108.1 MiB"),
        ("peak_rss_bytes", 1_634_398_208, "1.52 GiB"),
        ("b1_p64/e2e_ms_p50", 734.8021, "734.8 ms"),
        ("prefill_ms", 63.303, "63.3 ms"),
        ("parameters", 134_515_008, "134.5M"),
        ("throughput_batch_size", 4, "4"),
        ("throughput_tokens_per_s", 87.424, "87.4"),
    ],
)
def test_units_read_from_the_metric_name(
    build: type[Build], name: str, value: float, text: str
) -> None:
    assert format_value(build.metric(name, value, interval="none")) == text


@pytest.mark.parametrize(
    ("unit", "value", "interval", "text"),
    [
        ("share", 0.615, (0.5463, 0.6804), "61.5% [54.6, 68.0]"),
        ("fraction", 0.41234, (0.3712, 0.45549), "0.412 [0.371, 0.455]"),
        ("score", 1.5, (1.25, 1.75), "1.500 [1.250, 1.750]"),
        ("nats", -2.0, None, "-2.000"),
        ("ms", 734.8021, (730.04, 751.96), "734.8 ms [730.0, 752.0]"),
        ("seconds", 1.25, None, "1.250"),
        ("bytes", 538_060_032, None, "513.1 MiB"),
        ("bytes", 1_634_398_208, None, "1.52 GiB"),
        ("parameters", 134_515_008, None, "134.5M"),
        ("count", 4, None, "4"),
        ("tokens/s", 87.424, (80.01, 90.55), "87.4 [80.0, 90.5]"),
        ("samples/s", 3.61, None, "3.6"),
        ("joules", 12.5, None, "12.500"),
    ],
)
def test_a_metric_unit_decides_how_it_reads(
    build: type[Build],
    unit: Unit,
    value: float,
    interval: tuple[float, float] | None,
    text: str,
) -> None:
    low, high = interval or (None, None)
    # The name and interval alone would say otherwise: the unit wins.
    metric = build.metric("x_ms", value, ci_low=low, ci_high=high, interval="wilson", unit=unit)
    shown = f"{format_value(metric)} {format_interval(metric)}".strip()
    assert shown == text


def test_a_judge_corrected_share_reads_as_a_share_by_its_own_unit(build: type[Build]) -> None:
    raw = build.metric("rate", 0.3, interval="bootstrap", unit="fraction")
    twin = build.metric("rate_corrected", 0.25, ci_low=0.15, ci_high=0.35, unit="share")
    assert (format_value(twin, raw), format_interval(twin, raw)) == ("25.0%", "[15.0, 35.0]")
    assert is_percentage(twin, raw) and not is_percentage(raw)


def test_the_row_names_the_interval_method_in_words(build: type[Build]) -> None:
    metric = build.metric(
        "rate_corrected",
        0.25,
        interval="corrected-bootstrap",
        interval_detail="the abstention judge's 121 held-out rows",
    )
    (row,) = build_comparison(build.result([build.model("a", {"p": [metric]})], ["p"])).rows
    assert (
        row.interval_method == "bootstrap over items and the abstention judge's 121 held-out rows"
    )


def test_interval_in_the_same_unit(build: type[Build]) -> None:
    metric = build.metric("e2e_ms_p90", 743.6, ci_low=730.04, ci_high=751.96, interval="order")
    assert format_interval(metric) == "[730.0, 752.0]"


def test_no_interval_is_empty(build: type[Build]) -> None:
    assert format_interval(build.metric(value=0.5, ci_low=0.4)) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0.000"), (12.3456, "12.346"), (-0.5, "-0.500"), (0.00012345, "0.000123")],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_sizes() -> None:
    assert format_parameters(134_515_008) == "134.5M"
    assert format_parameters(7_241_732_096) == "7,241.7M"
    assert format_mib(3 * 2**20 + 2**19) == "3.5 MiB"


def test_error_line_keeps_the_first_line(build: type[Build]) -> None:
    assert error_line(build.error("first\nsecond", "ValueError")) == "ValueError: first"
    assert error_line(build.error("", "KeyError")) == "KeyError"
