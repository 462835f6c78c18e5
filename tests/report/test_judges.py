"""Judge cards, judge-corrected rates and model notes in the reports."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest

from auditkit.report import render_html, render_markdown
from auditkit.report.judges import (
    JudgeLink,
    format_share,
    judge_anchors,
    judge_views,
    probe_judges,
    slug,
)
from auditkit.report.table import build_comparison, corrected_twin, twins_after_raw
from auditkit.results import AuditResult, JudgeCard, LabelCard, Metric, Proportion
from tests.report import realistic

if TYPE_CHECKING:
    from tests.report.conftest import Build

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
ATTR = '" onmouseover="alert(1)'


def _share(value: float, n: int = 100) -> Proportion:
    return Proportion(value=value, ci_low=value - 0.05, ci_high=value + 0.04, n=n)


def _card(judge: str, **fields: object) -> JudgeCard:
    defaults: dict[str, object] = {
        "version": "1",
        "question": "Does the reply abstain?",
        "n": 200,
        "accuracy": _share(0.9, 200),
        "labels": [LabelCard(label="yes", sensitivity=_share(0.8), specificity=_share(0.95))],
    }
    return JudgeCard(judge=judge, **{**defaults, **fields})


def _rate(build: type[Build], name: str, value: float, **fields: object) -> Metric:
    return build.metric(name, value, direction="lower", interval="wilson", **fields)


def _twin(build: type[Build], name: str, value: float, **fields: object) -> Metric:
    return build.metric(
        f"{name}_corrected",
        value,
        direction="lower",
        ci_low=value - 0.1,
        ci_high=value + 0.1,
        interval="bootstrap over items and the abstention judge's 196 validation rows",
        description=f"{name}, corrected for the abstention judge's measured error",
        **fields,
    )


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


class _Links(HTMLParser):
    """Every element id and every link target of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") is not None:
            self.ids.append(str(found["id"]))
        if "href" in found:
            self.hrefs.append(str(found["href"]))
        if "src" in found:
            self.sources.append(str(found["src"]))


def _links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@pytest.fixture
def judged() -> AuditResult:
    return realistic.judged_result()


# --- the comparison table's rows ----------------------------------------------------------------


def test_a_corrected_twin_follows_its_raw_rate_with_a_label(build: type[Build]) -> None:
    metrics = [
        _rate(build, "hallucination_rate", 0.3),
        _rate(build, "abstention_rate", 0.1),
        _twin(build, "hallucination_rate", 0.25),
        _twin(build, "abstention_rate", 0.05),
    ]
    comparison = build_comparison(build.result([build.model("a", {"p": metrics})], ["p"]))
    assert [(row.metric, row.corrects) for row in comparison.rows] == [
        ("hallucination_rate", None),
        ("hallucination_rate_corrected", "hallucination_rate"),
        ("abstention_rate", None),
        ("abstention_rate_corrected", "abstention_rate"),
    ]
    assert [row.label for row in comparison.rows] == [
        "hallucination_rate",
        "hallucination_rate (judge-corrected)",
        "abstention_rate",
        "abstention_rate (judge-corrected)",
    ]


def test_a_twin_reads_in_its_raw_rates_units(build: type[Build]) -> None:
    metrics = [_rate(build, "refusal_rate", 0.3), _twin(build, "refusal_rate", 0.25)]
    comparison = build_comparison(build.result([build.model("a", {"p": metrics})], ["p"]))
    raw, twin = (row.cells[0] for row in comparison.rows)
    assert (raw.value, twin.value, twin.interval) == ("30.0%", "25.0%", "[15.0, 35.0]")
    assert twin.percentage


def test_a_corrected_name_without_its_raw_metric_is_an_ordinary_row(build: type[Build]) -> None:
    metrics = [build.metric("bias_corrected", 0.2), build.metric("accuracy", 0.5)]
    comparison = build_comparison(build.result([build.model("a", {"p": metrics})], ["p"]))
    assert [(row.label, row.corrects) for row in comparison.rows] == [
        ("bias_corrected", None),
        ("accuracy", None),
    ]
    assert comparison.rows[0].cells[0].value == "0.200"


def test_twins_pair_within_a_group_and_within_a_probe(build: type[Build]) -> None:
    metrics = [
        _rate(build, "rate", 0.3, group="people"),
        _rate(build, "rate", 0.2),
        _twin(build, "rate", 0.3, group="places"),  # no raw rate for "places"
        _twin(build, "rate", 0.25, group="people"),
    ]
    other = [_twin(build, "rate", 0.1)]  # its raw rate is in another probe
    models = [build.model("a", {"p": metrics, "q": other})]
    comparison = build_comparison(build.result(models, ["p", "q"]))
    assert [(row.probe_id, row.label) for row in comparison.rows] == [
        ("p", "rate"),
        ("q", "rate_corrected"),
    ]
    assert [(row.group, row.label) for row in comparison.group_rows] == [
        ("people", "rate"),
        ("people", "rate (judge-corrected)"),
        ("places", "rate_corrected"),
    ]


def test_twins_after_raw_keeps_other_items_in_order() -> None:
    names = ["b_corrected", "a", "b", "a_corrected_corrected", "c", "a_corrected"]
    ordered = twins_after_raw(names, lambda name: (name, None))
    assert ordered == ["a", "a_corrected", "a_corrected_corrected", "b", "b_corrected", "c"]


@pytest.mark.parametrize(
    ("name", "names", "raw"),
    [
        ("x_corrected", {"x"}, "x"),
        ("x_corrected", {"y"}, None),
        ("x", {"x"}, None),
        ("_corrected", {""}, None),
    ],
)
def test_corrected_twin(name: str, names: set[str], raw: str | None) -> None:
    assert corrected_twin(name, names) == raw


def test_model_notes_in_column_order(judged: AuditResult) -> None:
    comparison = build_comparison(judged)
    assert [entry.model_id for entry in comparison.notes] == [realistic.Q4, realistic.LORA]
    assert comparison.notes[1].notes == (realistic.EMULATED_NOTE,)
    assert [comparison.noted(m) for m in comparison.models] == [False, True, True]


# --- judge cards and anchors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("abstention", "abstention"),
        ("Short Answer v2", "short-answer-v2"),
        (XSS, "script-alert-1-script"),
        (ATTR, "onmouseover-alert-1"),
        ("Ünïcödé_judge", "n-c-d-judge"),
        ("--", ""),
        ("a" * 80, "a" * 48),
    ],
)
def test_slug_keeps_only_ascii_letters_digits_and_hyphens(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_anchors_are_unique_and_never_empty() -> None:
    cards = [_card(name) for name in ["a b", "a-b", "a-b-2", "!!", "", "A B"]]
    assert judge_anchors(cards) == [
        "judge-a-b",
        "judge-a-b-2",
        "judge-a-b-2-2",
        "judge-unnamed",
        "judge-unnamed-2",
        "judge-a-b-3",
    ]


def test_format_share() -> None:
    share = format_share(Proportion(value=0.934, ci_low=0.8905, ci_high=0.961, n=196))
    assert (share.value, share.interval, share.n) == ("93.4%", "[89.0, 96.1]", 196)
    empty = format_share(Proportion(value=math.nan, ci_low=math.nan, ci_high=math.nan, n=0))
    assert (empty.value, empty.interval) == ("NaN", "")


def test_judge_views_and_probe_links(judged: AuditResult) -> None:
    abstention, short_answer = judge_views(judged)
    assert (abstention.anchor, abstention.version, abstention.n) == ("judge-abstention", "3", 196)
    assert abstention.accuracy.value == "93.4%"
    assert [label.label for label in abstention.labels] == ["abstained", "answered"]
    assert abstention.probes == (realistic.CLOSED_BOOK,)
    assert short_answer.anchor == "judge-short-answer"
    assert probe_judges(judged) == {
        realistic.CLOSED_BOOK: (
            JudgeLink("short_answer", "judge-short-answer"),
            JudgeLink("abstention", "judge-abstention"),
        )
    }


def test_a_judge_without_a_card_is_named_not_linked(build: type[Build]) -> None:
    result = build.result([], ["p"])
    probes = [result.probes[0].model_copy(update={"judges": ["ghost"]})]
    result = result.model_copy(update={"probes": probes})
    assert probe_judges(result) == {"p": (JudgeLink("ghost", None),)}
    html = render_html(result)
    assert '<span title="no card for this judge in the results">ghost</span>' in html
    assert _links(html).hrefs == []
    assert '<section id="judges">' not in html


# --- the scorecard ------------------------------------------------------------------------------


def test_judge_cards(judged: AuditResult) -> None:
    judges = _section(render_html(judged), "judges")
    cards = re.findall(
        r'<article class="card judge" id="([^"]+)">\n<header><h3>([^<]+)</h3>', judges
    )
    assert cards == [("judge-abstention", "abstention"), ("judge-short-answer", "short_answer")]
    assert '<span class="tag">rules v3</span>' in judges
    question = "Does the reply decline to answer (abstain) rather than attempt one?"
    assert f'<p class="question">{question}</p>' in judges
    assert "<div><dt>Validation rows</dt><dd>196</dd></div>" in judges
    assert (
        '<div><dt>Accuracy</dt><dd><span class="share"><strong>93.4%</strong> '
        '<span class="muted">[89.0, 96.1]</span> <span class="muted">n=196</span></span></dd></div>'
    ) in judges
    assert "<div><dt>Used by</dt><dd>closed_book</dd></div>" in judges
    assert (
        '<tr><th scope="row">abstained</th>'
        '<td class="num"><span class="v">91.8%</span><span class="ci">[84.6, 95.8]</span>'
        '<span class="n">n=98</span></td>'
        '<td class="num"><span class="v">94.9%</span><span class="ci">[88.6, 97.8]</span>'
        '<span class="n">n=98</span></td></tr>'
    ) in judges


def test_judges_follow_the_probes_section(judged: AuditResult) -> None:
    html = render_html(judged)
    assert html.index('<section id="probes">') < html.index('<section id="judges">')
    assert html.index('<section id="judges">') < html.index('<section id="errors">')


def test_probes_link_to_their_judges(judged: AuditResult) -> None:
    html = render_html(judged)
    links = (
        '<a href="#judge-short-answer">short_answer</a>, <a href="#judge-abstention">abstention</a>'
    )
    assert f"<td>{links}</td>" in _section(html, "probes")
    assert "<td>hallucination.closed_book</td>" in _section(html, "probes")
    comparison = _section(html, "comparison")
    assert f'closed_book <span class="judged">judged by {links}</span></th></tr>' in comparison
    assert f'<p class="legend judged">judged by {links}</p>' in comparison
    assert '<th colspan="4" scope="rowgroup">arc_easy</th>' in comparison


def test_every_link_is_an_in_page_anchor_to_an_element(judged: AuditResult) -> None:
    page = _links(render_html(judged, realistic.samples()))
    assert page.sources == []
    assert page.hrefs
    assert all(href.startswith("#") for href in page.hrefs)
    assert {href[1:] for href in page.hrefs} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))


def test_corrected_rows_follow_their_raw_rate(judged: AuditResult) -> None:
    comparison = _section(render_html(judged), "comparison")
    labels = re.findall(
        r'<th scope="row"><span class="metric" title="[^"]*">([^<]+?) ?<', comparison
    )
    assert labels[-4:] == [
        "hallucination_rate",
        "hallucination_rate (judge-corrected)",
        "abstention_rate",
        "abstention_rate (judge-corrected)",
    ]
    assert comparison.count('<tr class="corrected">') == 2
    assert (
        'title="hallucination_rate, corrected for the short_answer judge&#39;s measured error '
        "(lower is better); interval: bootstrap over items and the short_answer judge&#39;s 240 "
        'validation rows; metric: hallucination_rate_corrected">'
    ) in comparison
    assert '<span class="v">27.0%<span class="star" title="best"> ★</span>' in comparison


def test_charts_label_corrected_rates_and_mark_noted_models(judged: AuditResult) -> None:
    charts = _section(render_html(judged), "charts")
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", charts)
    assert captions[3:7] == [
        "hallucination_rate (lower is better)",
        "hallucination_rate (judge-corrected) (lower is better)",
        "abstention_rate (lower is better)",
        "abstention_rate (judge-corrected) (lower is better)",
    ]
    assert 'text-anchor="end">smollm2-135m-q4 †</text>' in charts
    assert 'text-anchor="end">smollm2-135m</text>' in charts
    assert "marks a model that ran with notes" in charts


def test_model_notes_in_the_models_table(judged: AuditResult) -> None:
    models = _section(render_html(judged), "models")
    assert models.count('<tr class="notes">') == 2
    assert '<th scope="row" rowspan="2">smollm2-135m-lora <span class="note-mark"' in models
    assert '<th scope="row">smollm2-135m</th>' in models
    assert f"<li>{realistic.EMULATED_NOTE}</li>" in models
    assert f"<li>weights repacked {ESCAPED}</li>" in models


def test_noted_models_are_marked_in_the_comparison(judged: AuditResult) -> None:
    comparison = _section(render_html(judged), "comparison")
    mark = (
        '<a class="note-mark" href="#model-notes" title="ran with notes: see below the table">†</a>'
    )
    assert f'<th scope="col" class="model">smollm2-135m-lora {mark}</th>' in comparison
    assert '<th scope="col" class="model">smollm2-135m <span class="tag">baseline</span></th>' in (
        comparison
    )
    notes = comparison[comparison.index('<div class="model-notes" id="model-notes">') :]
    assert f"<li><strong>smollm2-135m-lora</strong>: {realistic.EMULATED_NOTE}</li>" in notes
    assert f"<li><strong>smollm2-135m-q4</strong>: weights repacked {ESCAPED}</li>" in notes


def test_no_notes_no_judges_no_marks(realistic_result: AuditResult) -> None:
    html = render_html(realistic_result)
    assert 'class="note-mark"' not in html
    assert 'id="model-notes"' not in html
    assert '<section id="judges">' not in html
    assert "judged by" not in html
    assert "judge-corrected" not in html


def _hostile(build: type[Build]) -> AuditResult:
    metrics = [_rate(build, "rate", 0.3), _twin(build, "rate", 0.2)]
    info = build.info(notes=[f"emulated {XSS}", ATTR])
    result = build.result([build.model("m", {"p": metrics}, info=info)], ["p"])
    card = _card(
        XSS,
        version=XSS,
        question=f"Is it {XSS}?",
        labels=[LabelCard(label=ATTR, sensitivity=_share(0.8), specificity=_share(0.9))],
    )
    probes = [result.probes[0].model_copy(update={"judges": [XSS, ATTR]})]
    return result.model_copy(update={"probes": probes, "judges": [card]})


def test_hostile_judge_and_note_strings_are_escaped_in_html(build: type[Build]) -> None:
    html = render_html(_hostile(build))
    assert XSS not in html
    assert "<script" not in html
    assert ATTR not in html
    assert '<article class="card judge" id="judge-script-alert-1-script">' in html
    assert f"<h3>{ESCAPED}</h3>" in html
    assert f'<span class="tag">rules v{ESCAPED}</span>' in html
    assert f'<p class="question">Is it {ESCAPED}?</p>' in html
    assert '<th scope="row">&#34; onmouseover=&#34;alert(1)</th>' in html
    assert f'<a href="#judge-script-alert-1-script">{ESCAPED}</a>' in html
    assert f"<li>emulated {ESCAPED}</li>" in html
    page = _links(html)
    assert sorted(page.hrefs) == ["#judge-script-alert-1-script"] * 2 + ["#model-notes"]
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in page.ids)


@pytest.mark.parametrize("n_models", [1, 3])
def test_judged_scorecard_tags_balance(judged: AuditResult, n_models: int) -> None:
    from tests.report.test_html import _Balance

    result = judged.model_copy(update={"models": judged.models[:n_models]})
    parser = _Balance()
    parser.feed(render_html(result, realistic.samples()))
    assert parser.depth == dict.fromkeys(_Balance.PAIRED, 0)


# --- the Markdown summary -----------------------------------------------------------------------


def test_markdown_labels_corrected_rows_like_the_scorecard(judged: AuditResult) -> None:
    lines = [line for line in render_markdown(judged).splitlines() if "closed\\_book |" in line]
    assert [line.split(" | ")[1] for line in lines[:4]] == [
        "hallucination\\_rate ↓",
        "hallucination\\_rate (judge-corrected) ↓",
        "abstention\\_rate ↓",
        "abstention\\_rate (judge-corrected) ↓",
    ]
    assert "| **27.0% [20.0, 34.0]** | 37.8% [28.0, 47.6] |" in lines[1]


def test_markdown_judges_section(judged: AuditResult) -> None:
    markdown = render_markdown(judged)
    expected = "\n".join(
        [
            "## Judges",
            "",
            "| Judge | Rules | Accuracy [95% CI] | n | Used by | Question |",
            "| --- | --- | ---: | ---: | --- | --- |",
            "| abstention | 3 | 93.4% [89.0, 96.1] | 196 | closed\\_book | "
            "Does the reply decline to answer (abstain) rather than attempt one? |",
            "| short\\_answer | 2 | 89.6% [85.1, 92.8] | 240 | closed\\_book | "
            f"Does the short reply state the reference answer? {ESCAPED} |",
        ]
    )
    assert expected in markdown
    assert markdown.index("## Models") < markdown.index("## Judges") < markdown.index("## Errors")


def test_markdown_model_notes_as_footnotes(judged: AuditResult) -> None:
    markdown = render_markdown(judged)
    assert (
        "| Probe | Metric | smollm2-135m (baseline) | smollm2-135m-q4 † | smollm2-135m-lora † |"
        in markdown
    )
    comparison = markdown[markdown.index("## Comparison") : markdown.index("<details>")]
    assert "† Notes on how these models ran" in comparison
    assert f"- **smollm2-135m-lora**: {realistic.EMULATED_NOTE}" in comparison
    assert f"- **smollm2-135m-q4**: weights repacked {ESCAPED}" in comparison
    models = markdown[markdown.index("## Models") :]
    assert "| smollm2-135m-q4 † | llama |" in models
    assert "| smollm2-135m | llama |" in models
    assert "† ran with notes, listed under the comparison table." in models


def test_markdown_notes_without_metrics(build: type[Build]) -> None:
    model = build.model("m", {}, info=build.info(notes=["bfloat16 is emulated"]))
    markdown = render_markdown(build.result([model], []))
    assert "No metrics were reported.\n\n† Notes on how these models ran" in markdown
    assert "- **m**: bfloat16 is emulated" in markdown


def test_markdown_escapes_hostile_judges_and_notes(build: type[Build]) -> None:
    markdown = render_markdown(_hostile(build))
    assert "<script" not in markdown
    assert (
        f"| {ESCAPED} | {ESCAPED} | 90.0% [85.0, 94.0] | 200 | p | Is it {ESCAPED}? |" in markdown
    )
    assert f"- **m**: emulated {ESCAPED}" in markdown
    assert '- **m**: " onmouseover="alert(1)' in markdown
    assert "| p | rate (judge-corrected) ↓ |" in markdown


def test_no_judges_section_without_cards(realistic_result: AuditResult) -> None:
    markdown = render_markdown(realistic_result)
    assert "## Judges" not in markdown
    assert "†" not in markdown
