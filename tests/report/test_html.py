from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from auditkit.report import FORMATS, render_html, write_reports
from auditkit.report.html import TEMPLATE, environment
from auditkit.results import AuditResult

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
    section = html[html.index('<section id="comparison">') : html.index('<section id="models">')]
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
    assert '<p class="banner bad" role="status">\n3 models · 1 probe · 1 error\n</p>' in html


def test_banner_is_green_without_errors(build: type[Build]) -> None:
    html = render_html(build.result([build.model("a", {"p": [build.metric()]})], ["p"]))
    assert '<p class="banner ok" role="status">\n1 model · 1 probe · 0 errors\n</p>' in html
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

    PAIRED = ("table", "tr", "td", "th", "details", "section", "p", "span", "div")

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
