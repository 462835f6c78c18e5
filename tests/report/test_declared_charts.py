"""Charts a probe declares (``Probe.charts``) travel in the saved results: the report draws them
from ``results.json`` alone, knowing no probe kind; files saved before the declaration existed
still chart as they did (the legacy rule, by kind)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from auditkit.outputs import RESULTS_FILE
from auditkit.probes.base import (
    PROBES,
    Probe,
    ProbeContext,
    ProbeOutput,
    ProbeSpec,
    Sample,
    register_probe,
)
from auditkit.progress import LogProgress
from auditkit.report import write_reports
from auditkit.report.figures import metric_figures
from auditkit.results import (
    AuditResult,
    ChartKind,
    Metric,
    ModelResult,
    ProbeResult,
    ProbeSummary,
)
from auditkit.runner import AuditRun
from auditkit.suite import load_suite
from tests.report.conftest import Build

PLUGIN_KIND = "acme.grouped_quality"
"""A kind no rule in the report knows (no ``bias.`` prefix)."""


class GroupedQualitySpec(ProbeSpec):
    kind: Literal["acme.grouped_quality"]


class GroupedQuality(Probe[GroupedQualitySpec]):
    """A plugin probe: ``accuracy`` overall and per group (``north``, ``south``), fixed values
    with fixed intervals (the numbers do not matter here, only the charts)."""

    Spec = GroupedQualitySpec
    charts = ("per_group",)

    def run(self, ctx: ProbeContext) -> ProbeOutput:
        def accuracy(value: float, group: str | None = None) -> Metric:
            return Metric(
                name="accuracy",
                value=value,
                ci_low=value - 0.1,
                ci_high=value + 0.1,
                n=10,
                direction="higher",
                interval="wilson",
                unit="share",
                group=group,
            )

        sample = Sample("i1", "in", "out", "out", {"correct": 1.0})
        return ProbeOutput(
            [accuracy(0.6), accuracy(0.7, "north"), accuracy(0.5, "south")], [sample]
        )


@pytest.fixture
def plugin_probe() -> Iterator[None]:
    """``GroupedQuality`` registered for the run; removed afterwards."""
    register_probe(GroupedQuality)
    try:
        yield
    finally:
        PROBES.pop(PLUGIN_KIND, None)


def _run_plugin_audit(folder: Path) -> Path:
    """Run the plugin probe on a mock model in this process; the audit's output folder."""
    folder.mkdir()
    suite = folder / "suite.yaml"
    suite.write_text(
        "schema_version: 1\nname: plugin-charts\nisolation: none\n"
        "models:\n  - {id: a, source: 'mock:shortest'}\n"
        f"probes:\n  - {{id: regions, kind: {PLUGIN_KIND}}}\n",
        encoding="utf-8",
    )
    out = folder / "out"
    AuditRun(load_suite(suite), out, LogProgress(stream=io.StringIO())).execute()
    return out


def test_a_plugin_probe_declaring_per_group_charts_gets_them_without_being_installed(
    plugin_probe: None, tmp_path: Path
) -> None:
    out = _run_plugin_audit(tmp_path / "audit")
    PROBES.pop(PLUGIN_KIND)  # the report runs where the plugin is not installed

    saved = AuditResult.read(out / RESULTS_FILE)
    (probe,) = saved.models[0].probes
    assert (probe.kind, probe.charts) == (PLUGIN_KIND, ["per_group"])
    (bundle,) = metric_figures(saved)
    assert [figure.caption for figure in bundle.figures] == [
        "accuracy (higher is better)",
        "accuracy by group (higher is better)",
    ]
    (scorecard,) = write_reports(saved, out, ["html"])
    assert "accuracy by group (higher is better)" in scorecard.read_text("utf-8")


def _grouped_model(build: type[Build], charts: list[ChartKind] | None) -> ModelResult:
    """A model whose ``pairs`` probe reports a grouped metric with an interval."""
    metric = build.metric("stereotype_preference", 0.6, group="gender", ci_low=0.1, ci_high=0.9)
    probe = ProbeResult(
        probe_id="pairs", kind="bias.stereotype_pairs", status="ok", metrics=[metric], charts=charts
    )
    return build.model("base").model_copy(update={"probes": [probe]})


def _without_charts(value: Any) -> Any:
    """Parsed ``results.json`` as written before ``ProbeResult.charts`` existed."""
    if isinstance(value, dict):
        return {k: _without_charts(v) for k, v in value.items() if k != "charts"}
    if isinstance(value, list):
        return [_without_charts(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("kind", "captions"),
    [
        ("bias.stereotype_pairs", ["stereotype_preference by group (higher is better)"]),
        ("multiple_choice", []),
    ],
)
def test_an_old_results_file_without_declarations_charts_as_before(
    build: type[Build], tmp_path: Path, kind: str, captions: list[str]
) -> None:
    result = build.result([_grouped_model(build, None)], ["pairs"])
    result = result.model_copy(update={"probes": [ProbeSummary(id="pairs", kind=kind, params={})]})
    old = _without_charts(json.loads(result.model_dump_json()))
    assert "charts" not in json.dumps(old)
    path = tmp_path / RESULTS_FILE
    path.write_text(json.dumps(old), encoding="utf-8")

    saved = AuditResult.read(path)
    assert saved.models[0].probes[0].charts is None
    bundles = metric_figures(saved)
    assert [f.caption for b in bundles for f in b.figures] == captions
    (scorecard,) = write_reports(saved, tmp_path, ["html"])
    html = scorecard.read_text("utf-8")
    assert ("stereotype_preference by group" in html) == bool(captions)


def test_a_declaration_overrides_the_legacy_rule(build: type[Build]) -> None:
    """A bias kind that declares no per-group chart gets none: the kind is never read."""
    result = build.result([_grouped_model(build, [])], ["pairs"])
    result = result.model_copy(
        update={"probes": [ProbeSummary(id="pairs", kind="bias.stereotype_pairs", params={})]}
    )
    assert metric_figures(result) == []


def test_the_bias_probes_declare_per_group_charts() -> None:
    for kind in ("bias.counterfactual", "bias.stereotype_pairs", "bias.group_fairness"):
        assert PROBES[kind].charts == ("per_group",), kind
