from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from auditkit.report import render_markdown
from auditkit.report.markdown import (
    MAX_BYTES,
    MAX_ERRORS,
    TRUNCATED_NOTE,
    clip,
    escape,
    fit,
)
from auditkit.results import AuditResult

if TYPE_CHECKING:
    from tests.report.conftest import Build


@pytest.fixture
def result(build: type[Build]) -> AuditResult:
    alpha = [
        build.metric("accuracy", 0.615, ci_low=0.546, ci_high=0.68, interval="wilson"),
        build.metric("brier", 0.412, ci_low=0.371, ci_high=0.455, direction="lower"),
        build.metric("accuracy", 0.9, group="history", interval="wilson"),
    ]
    beta = [
        build.metric("accuracy", 0.5, ci_low=0.43, ci_high=0.57, interval="wilson"),
        build.metric("brier", math.nan, direction="lower"),
    ]
    models = [
        build.model("alpha", {"mc": alpha}),
        build.model("beta", {"mc": beta}, info=build.info(license=None, dtype="bfloat16")),
        build.model("gamma", load_error=build.error("weights not found", "OSError", "load")),
    ]
    return build.result(models, ["mc"])


def _table_lines(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def test_comparison_table(result: AuditResult) -> None:
    markdown = render_markdown(result)
    expected = "\n".join(
        [
            "| Probe | Metric | alpha | beta | gamma |",
            "| --- | --- | ---: | ---: | ---: |",
            "| mc | accuracy ↑ | **61.5% [54.6, 68.0]** | 50.0% [43.0, 57.0] | error |",
            "| mc | brier ↓ | 0.412 [0.371, 0.455] | NaN | error |",
        ]
    )
    assert "## Comparison\n\n" + expected + "\n\n" in markdown


def test_title_and_status_line(result: AuditResult) -> None:
    lines = render_markdown(result).splitlines()
    assert lines[0] == "# Audit scorecard: nightly"
    assert lines[2] == (
        "❌ **3 models · 1 probe · 1 error** · auditkit 0.1.0 · suite sha256 0123456789ab · "
        "seed 7 · baseline none"
    )


def test_status_line_without_errors(build: type[Build]) -> None:
    markdown = render_markdown(build.result([build.model("a", {"p": [build.metric()]})], ["p"]))
    assert "✅ **1 model · 1 probe · 0 errors**" in markdown
    assert "## Errors" not in markdown


def test_grouped_rows_are_folded_away(result: AuditResult) -> None:
    markdown = render_markdown(result)
    folded = markdown[markdown.index("<details>") : markdown.index("</details>")]
    assert folded.startswith("<details><summary>By group (1 row)</summary>\n\n")
    assert "| mc | history | accuracy ↑ | 90.0% | — | error |" in folded
    assert "history" not in markdown[: markdown.index("<details>")]


def test_models_table(result: AuditResult) -> None:
    markdown = render_markdown(result)
    expected = "\n".join(
        [
            "| Model | Architecture | Params | dtype | License |",
            "| --- | --- | ---: | --- | --- |",
            "| alpha | llama | 134.5M | float32 | apache-2.0 |",
            "| beta | llama | 134.5M | bfloat16 | unknown |",
            "| gamma | not loaded | — | — | — |",
        ]
    )
    assert "## Models\n\n" + expected in markdown


def test_errors_list(result: AuditResult) -> None:
    markdown = render_markdown(result)
    assert markdown.endswith("## Errors\n\n- **gamma** · load: OSError: weights not found\n")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("`code`", "\\`code\\`"),
        ("line\nbreak\r\nhere", "line break here"),
        ("back\\|slash", "back\\\\\\|slash"),
        ("[link](x) *em* ~s~ a&b", "\\[link\\](x) \\*em\\* \\~s\\~ a&amp;b"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


def test_escape_clips_before_escaping() -> None:
    assert escape("<" * 10, limit=4) == "&lt;&lt;&lt;…"


def test_clip() -> None:
    assert clip("abcdef", 6) == "abcdef"
    assert clip("abcdefg", 6) == "abcde…"


def _columns(line: str) -> int:
    """Cells in a table line, counting only pipes that are not backslash-escaped."""
    pipes, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        pipes += line[i] == "|"
        i += 1
    return pipes - 1


def test_untrusted_text_cannot_break_rows_or_inject_html(build: type[Build]) -> None:
    nasty = "x | y\\\n<img src=x onerror=alert(1)>`|"
    metric = build.metric(nasty, 0.5, group=nasty)
    models = [
        build.model(nasty, {nasty: [metric, build.metric(nasty, 0.5)]}),
        build.model("b", probe_errors={nasty: build.error(nasty, nasty)}),
    ]
    markdown = render_markdown(build.result(models, [nasty], suite_name=nasty))

    assert "<img" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    lines = _table_lines(markdown)
    assert lines[0] == (
        "| Probe | Metric | x \\| y\\\\ &lt;img src=x onerror=alert(1)&gt;\\`\\| | b |"
    )
    assert [_columns(line) for line in lines] == [4] * 3 + [5] * 7
    errors = [line for line in markdown.splitlines() if line.startswith("- ")]
    assert errors == [
        "- **b** · x \\| y\\\\ &lt;img src=x onerror=alert(1)&gt;\\`\\|: "
        "x \\| y\\\\ &lt;img src=x onerror=alert(1)&gt;\\`\\|: "
        "x \\| y\\\\ &lt;img src=x onerror=alert(1)&gt;\\`\\|"
    ]


def test_every_table_row_is_one_line_with_all_columns(build: type[Build]) -> None:
    nasty = "a\nb|c\r\nd"
    models = [
        build.model(f"m{nasty}", {"p": [build.metric(nasty), build.metric(nasty, group="g")]})
    ]
    markdown = render_markdown(build.result(models, ["p"]))
    tables = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(tables) == 2 + 1 + 2 + 1 + 2 + 1  # comparison, groups, models
    for line in tables:
        assert line.endswith(" |")
    assert "| p | a b\\|c d ↑ | 0.500 |" in markdown


def test_errors_are_capped_and_messages_truncated(build: type[Build]) -> None:
    huge = "x" * 20_000
    errors = {f"p{i}": build.error(huge) for i in range(MAX_ERRORS + 7)}
    models = [build.model("a", probe_errors=errors)]
    markdown = render_markdown(build.result(models, list(errors)))

    items = [line for line in markdown.splitlines() if line.startswith("- ")]
    assert len(items) == MAX_ERRORS + 1
    assert items[-1] == "- … and 7 more errors, listed in the HTML scorecard"
    assert items[0] == "- **a** · p0: RuntimeError: " + "x" * 299 + "…"
    assert len(markdown.encode("utf-8")) < 100_000


def test_stays_under_the_size_cap_with_huge_results(build: type[Build]) -> None:
    metrics = [build.metric(f"metric_{i}_" + "<" * 200, 0.5) for i in range(1_200)]
    models = [build.model(f"m{i}", {"p": metrics}) for i in range(6)]
    markdown = render_markdown(build.result(models, ["p"]))
    assert len(markdown.encode("utf-8")) <= MAX_BYTES + len(TRUNCATED_NOTE) + 1
    assert markdown.endswith("\n\n" + TRUNCATED_NOTE)
    assert all(line.endswith(" |") for line in markdown.splitlines() if line.startswith("|"))


def test_fit_cuts_at_a_line_boundary() -> None:
    assert fit("aaaa\nbbbb\ncccc\n", limit=12) == "aaaa\nbbbb\n\n" + TRUNCATED_NOTE
    assert fit("short\n", limit=12) == "short\n"
