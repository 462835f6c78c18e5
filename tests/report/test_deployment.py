"""The deployment view: builds, flip rates, headline quality, costs and the Pareto front."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from auditkit.report import render_html, render_markdown
from auditkit.report.deployment import (
    DISK,
    LATENCY,
    MEMORY,
    QUALITY,
    Sense,
    build_deployment,
    build_parts,
    dominates,
    headline_metric,
    pareto_front,
)
from auditkit.report.paired import agreements
from auditkit.results import (
    AuditResult,
    Metric,
    ModelResult,
    PairedComparison,
    ProbeResult,
    ProbeSummary,
    PruningDetail,
    QuantizationDetail,
)

if TYPE_CHECKING:
    from tests.report.conftest import Build

MIB = 2**20
EMULATED = "bfloat16 is emulated on this CPU: its latency is not representative"


def _accuracy(value: float, low: float, high: float) -> Metric:
    return Metric(
        name="accuracy",
        value=value,
        ci_low=low,
        ci_high=high,
        n=200,
        direction="higher",
        interval="wilson",
        per_item="correct",
    )


def _costs(p50_ms: float | None, memory: dict[str, float]) -> list[ProbeResult]:
    """A ``latency`` probe (when ``p50_ms`` is given) and a ``resources`` probe."""
    probes = []
    if p50_ms is not None:
        latency = [
            Metric(name="prefill_ms", value=p50_ms / 5, n=10, direction="lower"),
            Metric(
                name="e2e_ms_p50",
                value=p50_ms,
                ci_low=p50_ms * 0.9,
                ci_high=p50_ms * 1.1,
                n=10,
                direction="lower",
                interval="order statistics",
            ),
            Metric(name="decode_tokens_per_s", value=20.0, n=10, direction="higher"),
        ]
        probes.append(ProbeResult(probe_id="speed", kind="latency", status="ok", metrics=latency))
    footprint = [
        Metric(name=name, value=value, n=1, direction="lower") for name, value in memory.items()
    ]
    probes.append(
        ProbeResult(probe_id="footprint", kind="resources", status="ok", metrics=footprint)
    )
    return probes


def _model(
    build: type[Build],
    model_id: str,
    accuracy: tuple[float, float, float],
    p50_ms: float | None,
    memory: dict[str, float],
    **info: Any,
) -> ModelResult:
    knowledge = ProbeResult(
        probe_id="knowledge",
        kind="multiple_choice",
        status="ok",
        metrics=[
            Metric(name="brier", value=0.4, ci_low=0.3, ci_high=0.5, n=200, direction="lower"),
            _accuracy(*accuracy),
        ],
    )
    return ModelResult(
        model_id=model_id,
        status="ok",
        info=build.info(**info),
        probes=[knowledge, *_costs(p50_ms, memory)],
    )


def _changed(model_id: str, probe_id: str, changed: int, n: int = 200) -> PairedComparison:
    return PairedComparison(
        model_id=model_id,
        probe_id=probe_id,
        metric="accuracy",
        baseline="f32",
        difference=-0.01,
        ci_low=-0.03,
        ci_high=0.01,
        p_value=0.4,
        n=n,
        method="mcnemar",
        changed=changed,
    )


def _result(build: type[Build], models: list[ModelResult], **fields: Any) -> AuditResult:
    probes = [
        ProbeSummary(id="knowledge", kind="multiple_choice", params={}),
        ProbeSummary(id="speed", kind="latency", params={}),
        ProbeSummary(id="footprint", kind="resources", params={}),
    ]
    return build.result(models, []).model_copy(update={"probes": probes, **fields})


@pytest.fixture
def audit(build: type[Build]) -> AuditResult:
    """Four builds of one model: the float32 baseline, an emulated bfloat16 one, an int4 one
    that is smaller and faster but worse, and one that never loaded."""
    models = [
        _model(build, "f32", (0.60, 0.53, 0.67), 1200.0, {"peak_rss_bytes": 1200 * MIB},
               bytes_on_disk=500 * MIB),
        _model(build, "bf16", (0.60, 0.53, 0.67), 1500.0, {"peak_rss_bytes": 1300 * MIB},
               bytes_on_disk=500 * MIB, dtype="bfloat16", notes=[EMULATED]),
        _model(build, "int4", (0.55, 0.48, 0.62), 800.0, {"peak_rss_bytes": 700 * MIB},
               bytes_on_disk=150 * MIB, quantization="int4-weight-only",
               quantization_detail=QuantizationDetail(scheme="int4-weight-only",
                                                      library="torchao", weight_bits=4,
                                                      group_size=128)),
        build.model("broken", load_error=build.error("weights not found", "OSError", "load")),
    ]  # fmt: skip
    comparisons = [
        _changed("bf16", "knowledge", 3),
        _changed("int4", "knowledge", 24),
        _changed("int4", "other", 99),
    ]
    return _result(build, models, baseline="f32", comparisons=comparisons)


def _row(result: AuditResult, model_id: str) -> Any:
    deployment = build_deployment(result)
    assert deployment is not None
    return next(row for row in deployment.rows if row.model_id == model_id)


# --- the build ---------------------------------------------------------------------------------


def test_build_names_runtime_dtype_quantization_and_pruning(build: type[Build]) -> None:
    plain = build.info()
    assert build_parts(plain) == ("transformers", "float32")
    assert build_parts(build.info(quantization="int8-dynamic")) == (
        "transformers",
        "float32",
        "int8-dynamic",
    )
    onnx = build.info(
        runtime="onnxruntime",
        runtime_detail={"providers": "CUDAExecutionProvider, CPUExecutionProvider", "graph": "x"},
        quantization="int8-dynamic",
        quantization_detail=QuantizationDetail(
            scheme="int8-dynamic", library="onnxruntime", weight_bits=8, activation_bits=8
        ),
    )
    assert build_parts(onnx) == (
        "onnxruntime (CUDA, CPU)",
        "float32",
        "int8-dynamic (W8A8, onnxruntime)",
    )
    pruned = build.info(
        pruning=PruningDetail(
            method="2:4", target_sparsity=0.5, achieved_sparsity=0.4987, layers=30
        ),
        quantization_detail=QuantizationDetail(
            scheme="int4-weight-only", library="torchao", weight_bits=4, group_size=64
        ),
    )
    assert build_parts(pruned) == (
        "transformers",
        "float32",
        "int4-weight-only (W4, group 64, torchao)",
        "2:4 pruning, 49.9% zeros",
    )


# --- the row's numbers -------------------------------------------------------------------------


def test_rows_show_flips_quality_latency_memory_and_disk(audit: AuditResult) -> None:
    deployment = build_deployment(audit)
    assert deployment is not None
    assert [row.model_id for row in deployment.rows] == ["f32", "bf16", "int4", "broken"]
    assert deployment.quality == "knowledge: accuracy"
    assert deployment.agreement_probe == "knowledge"
    assert deployment.columns == (QUALITY, LATENCY, MEMORY, DISK)

    base, bf16, int4, broken = deployment.rows
    assert base.baseline and base.flip is not None and base.flip.text == "baseline"
    assert int4.build_text == "transformers · float32 · int4-weight-only (W4, group 128, torchao)"
    assert int4.flip is not None
    assert (int4.flip.text, int4.flip.detail) == ("12.0%", "24 of 200 changed")
    assert int4.quality is not None
    assert (int4.quality.text, int4.quality.interval) == ("55.0%", "[48.0, 62.0]")
    assert int4.latency is not None and int4.latency.text == "800.0 ms"
    assert int4.memory is not None
    assert (int4.memory.text, int4.memory.kind) == ("700.0 MiB", "host")
    assert int4.disk is not None and int4.disk.text == "150.0 MiB"
    assert bf16.noted and not int4.noted
    assert not broken.loaded and broken.error == "OSError: weights not found"


def test_flip_rate_is_the_agreement_sections_count(audit: AuditResult) -> None:
    shared = [a for a in agreements(audit) if a.probe_id == "knowledge"]
    assert {a.model_id for a in shared} == {"bf16", "int4"}
    for agreement in shared:
        flip = _row(audit, agreement.model_id).flip
        assert flip is not None and flip.number == pytest.approx(agreement.flip_rate)
        assert agreement.flip_rate == pytest.approx(1 - agreement.share)


def test_flips_fall_back_to_the_first_probe_that_counts_them(audit: AuditResult) -> None:
    moved = audit.model_copy(update={"comparisons": [_changed("int4", "other", 50)]})
    deployment = build_deployment(moved)
    assert deployment is not None and deployment.agreement_probe == "other"
    assert _row(moved, "bf16").flip is None
    none = build_deployment(audit.model_copy(update={"comparisons": []}))
    assert none is not None and not none.shows_flips
    assert all(row.flip is None for row in none.rows)


def test_gpu_memory_wins_over_host_memory(build: type[Build]) -> None:
    gpu = {"peak_rss_bytes": 3 * 2**30, "peak_gpu_allocated_bytes": 2.5 * 2**30}
    models = [
        _model(build, "a", (0.6, 0.5, 0.7), 100.0, gpu),
        _model(build, "b", (0.6, 0.5, 0.7), 100.0, {"peak_rss_bytes": 1 * 2**30}),
    ]
    result = _result(build, models)
    a = _row(result, "a").memory
    assert a is not None and (a.text, a.kind) == ("2.50 GiB", "GPU")
    deployment = build_deployment(result)
    assert deployment is not None
    assert MEMORY not in deployment.compared  # GPU and host memory do not compare


def test_disk_from_the_resources_probe_when_the_model_info_has_none(build: type[Build]) -> None:
    models = [
        _model(build, "a", (0.6, 0.5, 0.7), None, {"bytes_on_disk": 40 * MIB}, bytes_on_disk=0),
        _model(build, "b", (0.6, 0.5, 0.7), None, {}, bytes_on_disk=0),
    ]
    result = _result(build, models)
    disk = _row(result, "a").disk
    assert disk is not None and disk.text == "40.0 MiB"
    assert _row(result, "b").disk is None
    deployment = build_deployment(result)
    assert deployment is not None
    assert LATENCY not in deployment.columns  # no latency probe ran: the column is left out


def test_headline_skips_speed_probes_and_metrics_without_an_interval(build: type[Build]) -> None:
    speed = ProbeResult(
        probe_id="speed",
        kind="latency",
        status="ok",
        metrics=[
            Metric(
                name="decode_tokens_per_s", value=20, ci_low=18, ci_high=22, n=10,
                direction="higher",
            )
        ],
    )  # fmt: skip
    knowledge = ProbeResult(
        probe_id="knowledge",
        kind="multiple_choice",
        status="ok",
        metrics=[
            Metric(name="score", value=0.9, n=200, direction="higher"),
            Metric(name="brier", value=0.4, ci_low=0.3, ci_high=0.5, n=200, direction="lower"),
            _accuracy(0.6, 0.5, 0.7),
        ],
    )
    model = ModelResult(model_id="a", status="ok", info=build.info(), probes=[speed, knowledge])
    result = build.result([model], []).model_copy(
        update={
            "probes": [
                ProbeSummary(id="speed", kind="latency", params={}),
                ProbeSummary(id="knowledge", kind="multiple_choice", params={}),
            ]
        }
    )
    found = headline_metric(result)
    assert found is not None and (found[0], found[1].name) == ("knowledge", "accuracy")


def test_no_view_with_fewer_than_two_models(audit: AuditResult) -> None:
    assert build_deployment(audit.model_copy(update={"models": audit.models[:1]})) is None


# --- the Pareto front --------------------------------------------------------------------------


def test_dominates_needs_at_least_as_good_everywhere_and_better_somewhere() -> None:
    senses: tuple[Sense, ...] = ("higher", "lower")
    assert dominates((0.6, 100.0), (0.5, 100.0), senses)
    assert dominates((0.6, 90.0), (0.6, 100.0), senses)
    assert not dominates((0.6, 100.0), (0.6, 100.0), senses)  # equal: neither dominates
    assert not dominates((0.7, 120.0), (0.6, 100.0), senses)  # a trade-off
    # float noise is a tie, not a win for either
    assert not dominates((0.6, 100.0 * (1 - 1e-12)), (0.6, 100.0), senses)


def test_pareto_front() -> None:
    points = {
        "big": (0.60, 1200.0, 500.0),
        "emulated": (0.60, 1500.0, 500.0),  # as good as big on quality, worse elsewhere
        "small": (0.55, 800.0, 150.0),  # a trade-off: on the front
        "twin": (0.55, 800.0, 150.0),  # ties with small: both stay
    }
    senses: tuple[Sense, ...] = ("higher", "lower", "lower")
    assert pareto_front(points, senses) == {"big", "small", "twin"}
    assert pareto_front({}, senses) == set()
    assert pareto_front({"only": (1.0, 1.0, 1.0)}, senses) == {"only"}


def test_front_marks_the_builds_no_other_beats(audit: AuditResult) -> None:
    deployment = build_deployment(audit)
    assert deployment is not None
    assert deployment.compared == (QUALITY, LATENCY, MEMORY, DISK)
    assert {row.model_id for row in deployment.rows if row.front} == {"f32", "int4"}


def test_a_column_missing_for_one_build_is_not_compared(build: type[Build]) -> None:
    models = [
        _model(build, "fast", (0.50, 0.4, 0.6), 100.0, {"peak_rss_bytes": 900 * MIB}),
        _model(build, "good", (0.70, 0.6, 0.8), None, {"peak_rss_bytes": 900 * MIB}),
        _model(build, "worse", (0.60, 0.5, 0.7), None, {"peak_rss_bytes": 950 * MIB}),
    ]
    deployment = build_deployment(_result(build, models))
    assert deployment is not None
    assert LATENCY in deployment.columns and LATENCY not in deployment.compared
    # without latency, "fast" is worse than "good" on quality and no better anywhere
    assert [row.model_id for row in deployment.rows if row.front] == ["good"]


def test_no_front_without_a_shared_column(build: type[Build]) -> None:
    models = [
        _model(build, "a", (0.6, 0.5, 0.7), 100.0, {}, bytes_on_disk=0),
        _model(build, "b", (0.6, 0.5, 0.7), None, {"peak_rss_bytes": MIB}, bytes_on_disk=0),
    ]
    knowledge_less = [m.model_copy(update={"probes": m.probes[1:]}) for m in models]
    deployment = build_deployment(_result(build, knowledge_less))
    assert deployment is not None
    assert deployment.compared == () and not deployment.has_front


# --- rendering ---------------------------------------------------------------------------------


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def test_scorecard_section_sits_after_the_verdict(audit: AuditResult) -> None:
    html = render_html(audit)
    assert html.index('id="verdict"') < html.index('id="deployment"') < html.index('id="gates"')
    section = _section(html, "deployment")
    head = section[section.index("<thead>") : section.index("</thead>")]
    headings = re.findall(r'<th scope="col"[^>]*>([^<]*)', head)
    assert [h.strip() for h in headings] == [
        "Model", "Build", "Flips vs baseline", "Quality", "Latency p50", "Peak memory",
        "Size on disk",
    ]  # fmt: skip
    assert "knowledge: accuracy" in head
    rows = re.findall(r"<tr( class=\"front\")?>\n<th scope=\"row\">(.*?)</th>", section)
    assert [(bool(front), re.sub(r" <.*", "", name)) for front, name in rows] == [
        (True, "f32"), (False, "bf16"), (True, "int4"), (False, "broken"),
    ]  # fmt: skip
    assert '<td class="num"><span class="v">55.0%</span><span class="ci">[48.0, 62.0]</span>' in (
        section
    )
    assert '<td colspan="6" class="err">not loaded: OSError: weights not found</td>' in section
    assert "no other build is better on every column" in section


def test_emulated_latency_is_flagged(audit: AuditResult) -> None:
    section = _section(render_html(audit), "deployment")
    bf16 = section[section.index('<th scope="row">bf16') :]
    bf16 = bf16[: bf16.index("</tr>")]
    assert '<a class="note-mark" href="#model-notes"' in bf16
    assert '1,500.0 ms <span class="note-mark"' in bf16
    assert '800.0 ms <span class="note-mark"' not in section
    assert "latency above all" in section
    assert 'id="model-notes"' in render_html(audit)  # the anchor the mark points to


def test_no_section_for_one_model(audit: AuditResult) -> None:
    one = audit.model_copy(update={"models": audit.models[:1]})
    assert 'id="deployment"' not in render_html(one)
    assert "## Deployment" not in render_markdown(one)


def test_untrusted_build_text_is_escaped(build: type[Build], audit: AuditResult) -> None:
    payload = "<script>alert(1)</script>"
    nasty = build.info(
        runtime_detail={"providers": payload}, quantization=f'"><img src=x {payload}'
    )
    models = [m.model_copy(update={"info": nasty}) if m.model_id == "int4" else m
              for m in audit.models]  # fmt: skip
    result = audit.model_copy(update={"models": models})
    html = render_html(result)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _section(html, "deployment")
    markdown = render_markdown(result)
    assert "<script>" not in markdown and "<img" not in markdown


def test_markdown_table(audit: AuditResult) -> None:
    markdown = render_markdown(audit)
    start = markdown.index("## Deployment")
    section = markdown[start : markdown.index("\n## ", start)]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert lines[0] == (
        "| Model | Build | Flips vs baseline (knowledge) | Quality ↑ (knowledge: accuracy) | "
        "Latency p50 ↓ | Peak memory ↓ | Size on disk ↓ |"
    )
    assert lines[2] == (
        "| f32 (baseline) ★ | transformers · float32 | baseline | 60.0% [53.0, 67.0] | "
        "1,200.0 ms | 1.17 GiB host | 500.0 MiB |"
    )
    assert lines[3].startswith("| bf16 † | transformers · bfloat16 | 1.5% | ")
    assert "| 1,500.0 ms † |" in lines[3]
    assert lines[5] == "| broken | not loaded: OSError: weights not found | — | — | — | — | — |"
    assert "★ on the Pareto front: no other build is better on every column" in section
    assert markdown.index("## Deployment") < markdown.index("## Comparison")


def test_an_error_rate_headline_is_lower_is_better(build: type[Build]) -> None:
    """A speech suite's quality is its word error rate: the front keeps the lowest."""

    def speech(model_id: str, wer: float, p50_ms: float) -> ModelResult:
        transcripts = ProbeResult(
            probe_id="knowledge",
            kind="speech_recognition",
            status="ok",
            metrics=[
                Metric(
                    name="wer",
                    value=wer,
                    ci_low=wer - 0.02,
                    ci_high=wer + 0.02,
                    n=24,
                    direction="lower",
                    interval="bootstrap",
                    unit="error rate",
                ),
                Metric(name="real_time_factor", value=0.2, n=24, direction="lower"),
            ],
        )
        return ModelResult(
            model_id=model_id,
            status="ok",
            info=build.info(bytes_on_disk=75 * MIB),
            probes=[transcripts, *_costs(p50_ms, {"peak_rss_bytes": 400 * MIB})],
        )

    result = _result(build, [speech("f32", 0.10, 900.0), speech("int8", 0.30, 1000.0)])
    assert headline_metric(result) == ("knowledge", result.models[0].probes[0].metrics[0])
    deployment = build_deployment(result)
    assert deployment is not None
    quality = next(c for c in deployment.columns if c.key == "quality")
    assert quality.sense == "lower"
    assert [row.model_id for row in deployment.rows if row.front] == ["f32"]
