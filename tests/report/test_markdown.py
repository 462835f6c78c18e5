from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

from auditkit.report import render_markdown
from auditkit.report.markdown import (
    MAX_BYTES,
    MAX_ERRORS,
    MAX_GATES,
    TRUNCATED_NOTE,
    clip,
    escape,
    fit,
)
from auditkit.results import AuditResult, GateVerdict

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
    assert lines[2] == "## ➖ NO GATES: no gates were set"
    assert lines[4] == (
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


def test_models_section_names_the_machine(result: AuditResult) -> None:
    env = result.environment.model_copy(
        update={"cpu": "Xeon <b>", "cpu_features": ["avx2", "fma"], "gpus": ["NVIDIA H200"],
                "gpu_capabilities": ["9.0"]}
    )  # fmt: skip
    markdown = render_markdown(result.model_copy(update={"environment": env}))
    assert (
        "\n\n**Machine:** Python 3.11.9 · Linux-6.8-x86\\_64 · CPU Xeon &lt;b&gt; (avx2, fma) · "
        "GPUs: NVIDIA H200 (compute 9.0)\n"
    ) in markdown


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
    deployment = _table_lines(_section(markdown, "## Deployment"))
    assert deployment[2] == (
        "| x \\| y\\\\ &lt;img src=x onerror=alert(1)&gt;\\`\\| ★ "
        "| transformers · float32 | 3.0 MiB |"
    )
    assert [_columns(line) for line in deployment] == [3] * 4
    lines = _table_lines(markdown[markdown.index("## Comparison") :])
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


# --- verdict, gates, differences, licenses ------------------------------------------------------


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    end = markdown.find("\n## ", start + len(heading))
    return markdown[start : end if end != -1 else len(markdown)]


def test_verdict_banner_first(realistic_result: AuditResult) -> None:
    lines = render_markdown(realistic_result).splitlines()
    assert lines[2] == "## ❌ FAIL: 2 of 6 failed, 1 could not be evaluated"
    assert lines[4] == (
        "**Gates:** 2 fail · 1 error · 2 inconclusive · 1 pass · inconclusive gates fail the audit"
    )
    assert lines[6].startswith("❌ **3 models · 2 probes · 1 error** · ")


@pytest.mark.parametrize(
    ("statuses", "inconclusive_fails", "line"),
    [
        (["pass", "pass"], True, "## ✅ PASS: all 2 gates pass"),
        (["pass", "inconclusive"], False, "## ⚠️ INCONCLUSIVE: 1 of 2 inconclusive, none failed"),
        (["pass", "inconclusive"], True, "## ❌ FAIL: 1 of 2 inconclusive"),
    ],
)
def test_verdict_banner_per_outcome(
    build: type[Build], statuses: list[str], inconclusive_fails: bool, line: str
) -> None:
    verdicts = [
        GateVerdict(model_id="a", probe_id="p", metric="m", rule="m ≥ 0", status=status)  # type: ignore[arg-type]
        for status in statuses
    ]
    result = build.result([], [], verdicts=verdicts, inconclusive_fails=inconclusive_fails)
    assert render_markdown(result).splitlines()[2] == line


def test_gates_table(realistic_result: AuditResult) -> None:
    section = _section(render_markdown(realistic_result), "## Gates")
    assert _table_lines(section) == [
        "| Model | Probe | Rule | Status | Estimate [95% CI] | p | n | Needed | Message |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- |",
        "| smollm2-135m-q4 | arc\\_easy | accuracy ≥ 0.5 | ❌ fail | 0.420 [0.372, 0.469] | — "
        "| 400 |  | the whole interval is on the wrong side of the threshold |",
        "| smollm2-135m-q4 | arc\\_easy | accuracy drop ≤ 0.02 vs smollm2-135m | ❌ fail "
        "| −0.195 [−0.261, −0.129] | p < 0.001 | 400 |  "
        "| the drop is larger than 0.02 with 95% confidence |",
        "| smollm2-135m-lora | truthfulqa\\_mc1 | accuracy ≥ 0.2 | ⛔ error | — | — | — |  "
        "| probe 'truthfulqa\\_mc1' did not run \"&gt;&lt;img src=x onerror=alert(1)&gt; |",
        "| smollm2-135m-lora | arc\\_easy | accuracy drop ≤ 0.02 vs smollm2-135m | ⚠️ inconclusive "
        "| −0.012 [−0.035, 0.011] | p = 0.310 | 400 | needs ≈ 2,600 items "
        "| the interval of the difference straddles the margin |",
        "| smollm2-135m-lora | license | license allows commercial use | ⚠️ inconclusive "
        "| — | — | — |  | llama3: review; over 700M monthly users need a separate license |",
        "| smollm2-135m | arc\\_easy | accuracy ≥ 0.5 | ✅ pass | 0.615 [0.566, 0.661] | — | 400 "
        "|  |  |",
    ]


def test_no_gates_section_without_verdicts(result: AuditResult) -> None:
    assert "## Gates" not in render_markdown(result)


def test_comparison_shows_differences_to_the_baseline(realistic_result: AuditResult) -> None:
    section = _section(render_markdown(realistic_result), "## Comparison")
    lines = _table_lines(section)
    assert lines[0] == (
        "| Probe | Metric | smollm2-135m (baseline) | smollm2-135m-q4 | smollm2-135m-lora |"
    )
    assert lines[2] == (
        "| arc\\_easy | accuracy ↑ | **61.5% [56.6, 66.1]** "
        "| 42.0% [37.2, 46.9]<br>Δ −19.5 pts [−26.1, −12.9] \\* "
        "| 60.3% [55.4, 65.0]<br>Δ −1.2 pts [−3.5, 1.1] |"
    )
    assert lines[3] == (
        "| arc\\_easy | brier ↓ | **0.412 [0.389, 0.436]** "
        "| 0.761 [0.730, 0.790]<br>Δ +0.349 [0.301, 0.398] \\* "
        "| 0.418 [0.394, 0.443]<br>Δ +0.006 [−0.004, 0.016] |"
    )
    assert lines[4] == (
        "| truthfulqa\\_mc1 | accuracy ↑ | **25.2% [21.2, 29.6]** "
        "| 24.0% [20.1, 28.4]<br>Δ −1.2 pts [−4.8, 2.4] | error |"
    )
    assert (
        "Δ: difference to the baseline smollm2-135m on paired items, with its 95% interval "
        "(points for proportions); \\* p < 0.05 in a paired test." in section
    )


def test_license_summary(realistic_result: AuditResult) -> None:
    section = _section(render_markdown(realistic_result), "## Licenses for commercial use")
    assert _table_lines(section)[2:] == [
        "| smollm2-135m | Apache-2.0 (Apache License 2.0) | ✅ allowed | allowed | yes | no | none "
        "| permissive license |",
        "| smollm2-135m-q4 | CC-BY-NC-4.0 (Creative Commons Attribution Non Commercial 4.0) "
        "| ❌ forbidden | forbidden | yes | yes | none "
        "| non-commercial only; &lt;script&gt;alert(1)&lt;/script&gt; |",
        "| smollm2-135m-lora | llama3 (Llama 3 Community License) | ⚠️ review | conditional | yes "
        "| yes | none | acceptable-use policy applies; over 700M monthly users need a separate "
        "license |",
    ]


def test_markdown_stays_small_with_many_gates(build: type[Build]) -> None:
    verdicts = [
        GateVerdict(
            model_id=f"model-{i}", probe_id="p", metric="m", rule="m ≥ 0.5", status="fail",
            message="x" * 5_000,
        )
        for i in range(MAX_GATES + 40)
    ]  # fmt: skip
    markdown = render_markdown(build.result([], [], verdicts=verdicts))
    gate_lines = [line for line in _table_lines(markdown) if line.startswith("| model-")]
    assert len(gate_lines) == MAX_GATES
    assert "… and 40 more gates, listed in the HTML scorecard." in markdown
    assert len(markdown.encode("utf-8")) < 1024 * 1024
