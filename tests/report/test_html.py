from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from auditkit.report import FORMATS, render_html, write_reports
from auditkit.report.html import TEMPLATE, environment
from auditkit.results import AuditResult, GateVerdict

if TYPE_CHECKING:
    from tests.report.conftest import Build

XSS = "<script>alert(1)</script>"
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
)


@pytest.fixture
def result(build: type[Build]) -> AuditResult:
    """Two models that loaded (one of them better on every metric), one that did not."""
    metrics_a = [
        build.metric(
            "accuracy",
            0.615,
            ci_low=0.546,
            ci_high=0.68,
            interval="wilson",
            description="share of items answered right",
        ),
        build.metric("brier", 0.412, direction="lower", interval="bootstrap"),
        build.metric("accuracy", 0.9, group="history", interval="wilson"),
    ]
    metrics_b = [
        build.metric("accuracy", 0.5, interval="wilson"),
        build.metric("brier", 0.5, direction="lower", interval="bootstrap"),
        build.metric("accuracy", 0.7, group="history", interval="wilson"),
    ]
    models = [
        build.model("alpha", {"mc": metrics_a}),
        build.model("beta", {"mc": metrics_b}, info=build.info(trust_remote_code=True)),
        build.model("gamma", load_error=build.error("weights not found", "OSError", "load")),
    ]
    return build.result(models, ["mc"], baseline="alpha")


def _cell_classes(html: str) -> list[str]:
    """Classes of the comparison cells (whole-probe rows, then grouped rows), in order."""
    start = html.index('<section id="comparison">')
    section = html[start : html.index("</section>", start)]
    return re.findall(r'<td class="([^"]*)"', section)


def test_is_a_complete_html5_document(result: AuditResult) -> None:
    html = render_html(result)
    assert html.startswith("<!DOCTYPE html>\n")
    assert html.rstrip().endswith("</html>")
    assert html.count(CSP) == 1


def test_loads_nothing_from_the_network(result: AuditResult) -> None:
    html = render_html(result)
    assert "http://" not in html
    assert "https://" not in html
    assert re.search(r"(?:src|href)\s*=", html, re.IGNORECASE) is None
    assert "<script" not in html
    assert "<link" not in html


def test_template_autoescapes() -> None:
    env = environment()
    assert callable(env.autoescape)
    assert env.autoescape(TEMPLATE) is True


def test_untrusted_text_is_escaped(build: type[Build]) -> None:
    metric = build.metric(f"acc{XSS}", 0.5, description=f"desc {XSS}", group=None)
    grouped = build.metric("acc", 0.5, group=XSS)
    models = [
        build.model(
            f"id{XSS}",
            {f"probe{XSS}": [metric, grouped]},
            info=build.info(resolved=f"/models/{XSS}", license=XSS),
        ),
        build.model("b", probe_errors={f"probe{XSS}": build.error(f"boom {XSS}", XSS)}),
        build.model("c", load_error=build.error(f'" onmouseover="{XSS}', stage="load")),
    ]
    html = render_html(build.result(models, [f"probe{XSS}"], suite_name=XSS, baseline=XSS))

    assert XSS not in html
    assert "<script" not in html
    assert '" onmouseover="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "/models/&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'title="desc &lt;script&gt;alert(1)&lt;/script&gt; (higher is better)' in html
    assert "boom &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_best_cells_are_highlighted(result: AuditResult) -> None:
    html = render_html(result)
    # accuracy, brier, then the per-group accuracy; columns alpha, beta, gamma (not loaded).
    assert _cell_classes(html) == [
        "num best",
        "num",
        "err",
        "num best",
        "num",
        "err",
        "num best",
        "num",
        "err",
    ]


def test_comparison_shows_values_intervals_and_n(result: AuditResult) -> None:
    html = render_html(result)
    expected = (
        '<td class="num best"><span class="v">61.5%<span class="star" title="best"> ★</span>'
        '</span><span class="ci">[54.6, 68.0]</span><span class="n">n=200</span></td>'
    )
    assert expected in html
    assert '<span class="v">0.412' in html
    assert '<span class="dir" aria-label="lower is better">↓</span>' in html
    assert 'title="share of items answered right (higher is better); interval: wilson"' in html


def test_grouped_rows_are_in_a_details_block(result: AuditResult) -> None:
    html = render_html(result)
    details = html[html.index("<details") : html.index("</details>")]
    assert "<summary>mc: by group (1 row)</summary>" in details
    assert '<th scope="row">history</th>' in details
    assert "90.0%" in details
    before = html[: html.index("<details")]
    assert "90.0%" not in before


def test_header_and_status_banner(result: AuditResult) -> None:
    html = render_html(result)
    assert '<dd class="mono" title="' + "0123456789abcdef" * 4 + '">0123456789ab</dd>' in html
    assert "<div><dt>seed</dt><dd>7</dd></div>" in html
    assert "<div><dt>baseline</dt><dd>alpha</dd></div>" in html
    assert "Python 3.11.9 · Linux-6.8-x86_64 · CPU Test CPU · GPUs: none" in html
    assert "<div><dt>intended use</dt><dd>research</dd></div>" in html
    assert _verdict(html) == (
        '<section id="verdict" class="verdict none" role="status" aria-label="Audit verdict">\n'
        '<div class="verdict-label">NO GATES</div>\n'
        '<div class="verdict-body">\n'
        '<p class="headline">no gates were set</p>\n'
        '<p class="run bad">3 models · 1 probe · 1 run error</p>\n'
        "</div>\n"
        "</section>"
    )


def _verdict(html: str) -> str:
    start = html.index('<section id="verdict"')
    return html[start : html.index("</section>", start) + len("</section>")]


def test_environment_line_names_cpu_features_and_gpu_capabilities(result: AuditResult) -> None:
    env = result.environment.model_copy(
        update={
            "cpu": f"Xeon {XSS}",
            "cpu_features": ["amx_bf16", "avx2", "avx512_bf16"],
            "gpus": ["NVIDIA H200", "NVIDIA A100"],
            "gpu_capabilities": ["9.0", "8.0"],
        }
    )
    html = render_html(result.model_copy(update={"environment": env}))
    assert (
        "CPU Xeon &lt;script&gt;alert(1)&lt;/script&gt; (amx_bf16, avx2, avx512_bf16) · "
        "GPUs: NVIDIA H200 (compute 9.0), NVIDIA A100 (compute 8.0)</p>"
    ) in html
    unmatched = env.model_copy(update={"gpu_capabilities": ["9.0"]})
    html = render_html(result.model_copy(update={"environment": unmatched}))
    assert "GPUs: NVIDIA H200, NVIDIA A100</p>" in html  # capabilities that do not pair up


def test_run_line_is_plain_without_errors(build: type[Build]) -> None:
    html = render_html(build.result([build.model("a", {"p": [build.metric()]})], ["p"]))
    assert '<p class="run">1 model · 1 probe · 0 run errors</p>' in _verdict(html)
    assert "No errors." in html


def test_models_table(result: AuditResult) -> None:
    html = render_html(result)
    models = html[html.index('<section id="models">') : html.index('<section id="probes">')]
    assert "134.5M" in models
    assert "3.0 MiB" in models
    assert "apache-2.0 (model card)" in models
    assert "1.2 s" in models
    assert models.count("⚠ trust_remote_code") == 1
    file_cell = f'<div title="{"ab" * 32}">{"ab" * 6} <span class="muted">model.gguf</span></div>'
    assert file_cell in models
    assert "not loaded: OSError: weights not found" in models


def test_probes_params_as_compact_json(build: type[Build]) -> None:
    result = build.result([], ["p"])
    probes = [result.probes[0].model_copy(update={"params": {"limit": 5, "data": None}})]
    html = render_html(result.model_copy(update={"probes": probes}))
    assert "<code>{&#34;data&#34;: null, &#34;limit&#34;: 5}</code>" in html


def test_errors_section_lists_load_and_probe_errors(build: type[Build]) -> None:
    models = [
        build.model("a", load_error=build.error("gone", "OSError", "load")),
        build.model("b", probe_errors={"mc": build.error("bad shape", "ValueError")}),
    ]
    html = render_html(build.result(models, ["mc"]))
    errors = html[html.index('<section id="errors">') :]
    assert '<th scope="row">a</th><td>load</td><td><code>OSError</code></td>' in errors
    assert '<th scope="row">b</th><td>mc</td><td><code>ValueError</code></td>' in errors
    assert '<td class="msg">bad shape</td>' in errors


def test_nan_and_missing_cells(build: type[Build]) -> None:
    models = [
        build.model("a", {"p": [build.metric("x", math.nan), build.metric("y", 0.1)]}),
        build.model("b", {"p": [build.metric("x", 0.2)]}),
    ]
    html = render_html(build.result(models, ["p"]))
    assert _cell_classes(html) == ["num nan", "num", "num", "missing"]


class _Balance(HTMLParser):
    """Counts open/close tags that must pair, to catch a template that breaks the document."""

    PAIRED = (
        "table", "tr", "td", "th", "details", "section", "p", "span", "div", "svg", "g", "text",
        "figure", "article", "ul", "li", "dl", "select", "label", "script", "summary",
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.depth = dict.fromkeys(self.PAIRED, 0)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.depth:
            self.depth[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.depth:
            self.depth[tag] -= 1


@pytest.mark.parametrize("n_models", [1, 6])
def test_tags_balance_for_one_to_six_models(build: type[Build], n_models: int) -> None:
    models = [build.model(f"m{i}", {"p": [build.metric(value=i / 10)]}) for i in range(n_models)]
    parser = _Balance()
    parser.feed(render_html(build.result(models, ["p"])))
    assert parser.depth == dict.fromkeys(_Balance.PAIRED, 0)


@pytest.mark.parametrize(
    ("formats", "names"),
    [
        (["html"], ["scorecard.html"]),
        (["markdown"], ["summary.md"]),
        (["markdown", "html", "markdown"], ["summary.md", "scorecard.html"]),
        ([], []),
    ],
)
def test_write_reports_writes_requested_formats_only(
    result: AuditResult, tmp_path: Path, formats: list[str], names: list[str]
) -> None:
    out = tmp_path / "out"
    written = write_reports(result, out, formats)
    assert written == [out / name for name in names]
    present = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert present == sorted(names)
    for path in written:
        assert path.read_text(encoding="utf-8") == FORMATS[_format_of(path.name)][1](result)


def _format_of(file_name: str) -> str:
    return next(name for name, (file, _) in FORMATS.items() if file == file_name)


def test_write_reports_rejects_unknown_formats_before_writing(
    result: AuditResult, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        write_reports(result, tmp_path, ["html", "pdf"])
    assert list(tmp_path.iterdir()) == []


# --- verdict, gates, differences, charts, licenses, agreement, explorer -------------------------


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


class _Elements(HTMLParser):
    """Every start tag with its attributes, to check what a browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


@pytest.fixture
def scorecard(realistic_result: AuditResult, realistic_samples: list[dict[str, object]]) -> str:
    return render_html(realistic_result, realistic_samples)


@pytest.mark.parametrize(
    ("statuses", "inconclusive_fails", "overall", "label"),
    [
        (["pass"], True, "pass", "PASS"),
        (["pass", "fail"], True, "fail", "FAIL"),
        (["inconclusive"], True, "fail", "FAIL"),
        (["inconclusive"], False, "inconclusive", "INCONCLUSIVE"),
        ([], True, "none", "NO GATES"),
    ],
)
def test_verdict_banner(
    build: type[Build], statuses: list[str], inconclusive_fails: bool, overall: str, label: str
) -> None:
    verdicts = [
        GateVerdict(model_id="a", probe_id="p", metric="m", rule="m ≥ 0", status=s)  # type: ignore[arg-type]
        for s in statuses
    ]
    result = build.result([], [], verdicts=verdicts, inconclusive_fails=inconclusive_fails)
    verdict = _verdict(render_html(result))
    assert verdict.startswith(f'<section id="verdict" class="verdict {overall}" role="status"')
    assert f'<div class="verdict-label">{label}</div>' in verdict


def test_verdict_banner_counts(scorecard: str) -> None:
    verdict = _verdict(scorecard)
    assert '<p class="headline">2 of 6 failed, 1 could not be evaluated</p>' in verdict
    assert (
        '<p class="counts"><span class="badge fail">2 fail</span> '
        '<span class="badge error">1 error</span> '
        '<span class="badge inconclusive">2 inconclusive</span> '
        '<span class="badge pass">1 pass</span> '
        '<span class="policy">inconclusive gates fail the audit</span></p>'
    ) in verdict
    assert '<p class="run bad">3 models · 2 probes · 1 run error</p>' in verdict
    assert scorecard.index('id="verdict"') < scorecard.index('id="gates"')


def test_gates_table(scorecard: str) -> None:
    gates = _section(scorecard, "gates")
    rows = re.findall(r'<tr class="gate ([a-z]+)">', gates)
    assert rows == ["fail", "fail", "error", "inconclusive", "inconclusive", "pass"]
    assert (
        '<tr class="gate inconclusive"><th scope="row">smollm2-135m-lora</th><td>arc_easy</td>'
        '<td class="rule">accuracy drop ≤ 0.02 vs smollm2-135m</td>'
        '<td><span class="badge inconclusive">inconclusive</span></td>'
        '<td class="num"><span class="v">−0.012</span><span class="ci">[−0.035, 0.011]</span></td>'
        '<td class="num">p = 0.310</td><td class="num">400</td>'
        '<td class="need">needs ≈ 2,600 items</td>'
        '<td class="msg">the interval of the difference straddles the margin</td></tr>'
    ) in gates
    assert "<td>license</td>" in gates
    assert "did not run &#34;&gt;&lt;img src=x onerror=alert(1)&gt;</td>" in gates


def test_no_gates(result: AuditResult) -> None:
    assert '<p class="muted">The suite sets no gates.</p>' in _section(render_html(result), "gates")


def test_comparison_marks_the_baseline_and_shows_differences(scorecard: str) -> None:
    comparison = _section(scorecard, "comparison")
    assert (
        '<th scope="col" class="model">smollm2-135m <span class="tag">baseline</span></th>'
        '<th scope="col" class="model">smollm2-135m-q4</th>'
    ) in comparison
    assert (
        '<span class="delta worse sig" title="smollm2-135m-q4 − smollm2-135m on 400 paired items '
        '(mcnemar); p &lt; 0.001">Δ −19.5 pts [−26.1, −12.9]'
        '<span class="mark" aria-label="significant"> *</span></span></td>'
    ) in comparison
    assert (
        '<span class="delta neutral" title="smollm2-135m-lora − smollm2-135m on 400 paired items '
        '(mcnemar); p = 0.310">Δ −1.2 pts [−3.5, 1.1]</span></td>'
    ) in comparison
    assert comparison.count('class="delta ') == 5
    assert '<p class="legend">Δ: difference to the baseline smollm2-135m' in comparison


def test_charts(scorecard: str) -> None:
    charts = _section(scorecard, "charts")
    assert charts.count("<svg ") == 5
    assert charts.count('role="img"') == 5
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", charts)
    assert captions == [
        "accuracy (higher is better)",
        "brier (lower is better)",
        "accuracy (higher is better)",
        "Quality vs size on disk",
        "Quality vs latency",
    ]
    assert '<h3>Quality against cost <span class="muted">(arc_easy: accuracy)</span></h3>' in charts


def test_no_charts_without_intervals_or_quality(build: type[Build]) -> None:
    models = [build.model("a", {"p": [build.metric("loss", direction="lower")]})]
    assert '<section id="charts">' not in render_html(build.result(models, ["p"]))


def test_agreement(scorecard: str) -> None:
    agreement = _section(scorecard, "agreement")
    assert (
        '<tr><th scope="row">smollm2-135m-q4</th><td>arc_easy</td><td class="num">'
        '<meter min="0" max="1" value="0.6475" aria-hidden="true"></meter> 64.8%</td>'
        '<td class="muted">259 of 400 items identical (141 changed)</td></tr>'
    ) in agreement
    assert agreement.count('<tr><th scope="row">') == 3


def test_license_cards(scorecard: str) -> None:
    licenses = _section(scorecard, "licenses")
    assert '<h2>Licenses <span class="muted">for commercial use</span></h2>' in licenses
    cards = re.findall(r'<article class="card ([a-z]+)">\n<header><h3>([^<]+)</h3>', licenses)
    assert cards == [
        ("allowed", "smollm2-135m"),
        ("forbidden", "smollm2-135m-q4"),
        ("review", "smollm2-135m-lora"),
    ]
    assert '<span class="badge review">review</span>' in licenses
    assert '<p class="url mono small">https://www.apache.org/licenses/LICENSE-2.0</p>' in licenses
    assert '<p class="url mono small">javascript:alert(1)</p>' in licenses
    assert "<div><dt>User threshold</dt><dd>700,000,000 users</dd></div>" in licenses
    assert "<li>over 700M monthly users need a separate license</li>" in licenses
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in licenses


def test_explorer_rows_and_filters(scorecard: str) -> None:
    samples = _section(scorecard, "samples")
    # Without scripts, the (useless) filters stay hidden and every row shows.
    assert '<div class="filters" hidden>' in samples
    assert re.findall(r"<tr[^>]*hidden", samples) == []
    assert samples.count("<tr data-model=") == 27
    options = re.findall(r'<option value="([^"]*)">', samples)
    assert options == ["", "smollm2-135m", "smollm2-135m-q4", "smollm2-135m-lora"]
    assert (
        '<td class="text">A &lt;script&gt;alert(1)&lt;/script&gt;<div class="was">'
        '<span class="tag">baseline</span> C &#34;&gt;&lt;img src=x onerror=alert(1)&gt;</div></td>'
    ) in samples
    assert "lead?\u2028Second line" in samples


def test_explorer_folds_long_inputs(scorecard: str) -> None:
    samples = _section(scorecard, "samples")
    folded = re.findall(
        r'<details class="more"><summary>([^<]*)</summary><div class="full">', samples
    )
    assert folded
    assert all(len(summary) == 301 and summary.endswith("…") for summary in folded)


def test_explorer_script_is_allowed_by_its_hash_only(scorecard: str) -> None:
    scripts = re.findall(r"<script>(.*?)</script>", scorecard, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = (
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'\">"
    )
    assert scorecard.count(csp) == 1
    assert "unsafe-inline'; img-src data:; script-src 'unsafe" not in scorecard
    assert "'unsafe-eval'" not in scorecard


def test_no_element_or_handler_comes_from_the_data(scorecard: str) -> None:
    elements = _elements(scorecard)
    assert [tag for tag, _ in elements if tag in ("script", "img", "iframe", "object")] == [
        "script"
    ]
    handlers = [(tag, name) for tag, attrs in elements for name in attrs if name.startswith("on")]
    assert handlers == []
    links = [attrs for tag, attrs in elements if "href" in attrs or "src" in attrs]
    assert links == []
    assert "<script>alert(1)</script>" not in scorecard


def test_no_script_without_samples(realistic_result: AuditResult) -> None:
    html = render_html(realistic_result)
    assert "<script" not in html
    assert html.count(CSP) == 1
    assert '<section id="samples">' not in html


def test_no_script_when_no_sample_is_picked(realistic_result: AuditResult) -> None:
    html = render_html(realistic_result, [])
    assert "<script" not in html
    assert html.count(CSP) == 1
    assert '<p class="muted">No per-item records to show.</p>' in _section(html, "samples")


def test_write_reports_reads_saved_samples(
    realistic_result: AuditResult, realistic_samples: list[dict[str, object]], tmp_path: Path
) -> None:
    lines = [json.dumps(row) for row in realistic_samples[:6]] + ["{broken", "42"]
    (tmp_path / "samples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path,) = write_reports(realistic_result, tmp_path, ["html"])
    html = path.read_text(encoding="utf-8")
    note = (
        '<p class="muted skipped">Left out 2 lines of samples.jsonl that are not sample records: '
        "lines 7, 8 (line 7: not valid JSON: Expecting property name enclosed in double quotes "
        "(column 2)).</p>\n"
    )
    assert note in _section(html, "samples")
    assert html.replace(note, "") == render_html(realistic_result, realistic_samples[:6])


def test_write_reports_prefers_given_samples(
    realistic_result: AuditResult, realistic_samples: list[dict[str, object]], tmp_path: Path
) -> None:
    (tmp_path / "samples.jsonl").write_text("{broken\n", encoding="utf-8")
    (path,) = write_reports(realistic_result, tmp_path, ["html"], samples=realistic_samples)
    assert path.read_text(encoding="utf-8") == render_html(realistic_result, realistic_samples)


def test_write_reports_without_samples_file(realistic_result: AuditResult, tmp_path: Path) -> None:
    (path,) = write_reports(realistic_result, tmp_path, ["html"])
    assert '<section id="samples">' not in path.read_text(encoding="utf-8")


def test_realistic_scorecard_tags_balance(scorecard: str) -> None:
    parser = _Balance()
    parser.feed(scorecard)
    assert parser.depth == dict.fromkeys(_Balance.PAIRED, 0)


def test_explorer_wording_without_a_baseline(build: type[Build]) -> None:
    rows = [
        {"model_id": "a", "probe_id": "p", "item_id": str(i), "scores": {"correct": float(i)}}
        for i in range(2)
    ]
    html = render_html(build.result([build.model("a", {"p": [build.metric()]})], ["p"]), rows)
    assert (
        "1 of 2 records: each model's lowest-scored items (up to 30 per probe each)."
        in _section(html, "samples")
    )
