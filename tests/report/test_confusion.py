"""Confusion matrices on the scorecard: read from the samples of probes that declare them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditkit.report import render_html
from auditkit.report.confusion import confusion_matrices
from auditkit.results import AuditResult

if TYPE_CHECKING:
    from tests.report.conftest import Build


def _result(build: type[Build], charts: list[str] | None) -> AuditResult:
    models = [build.model(m, {"sentiment": [build.metric()]}) for m in ("bert", "deberta")]
    result = build.result(models, ["sentiment"])
    updated = [
        model.model_copy(
            update={"probes": [p.model_copy(update={"charts": charts}) for p in model.probes]}
        )
        for model in result.models
    ]
    return result.model_copy(update={"models": updated})


def _sample(model_id: str, details: Any) -> dict[str, Any]:
    return {
        "model_id": model_id,
        "probe_id": "sentiment",
        "item_id": "confusion_matrix",
        "input": "",
        "output": "",
        "target": "",
        "scores": {},
        "details": details,
    }


MATRIX = {"labels": ["negative", "<b>positive</b>"], "matrix": [[8, 2], [3, 7]]}


def test_a_declared_matrix_is_a_table_per_model(build: type[Build]) -> None:
    result = _result(build, ["confusion_matrix"])
    samples = [_sample("deberta", MATRIX), _sample("bert", MATRIX)]

    (first, second) = confusion_matrices(result, samples)
    html = render_html(result, samples)

    assert (first.model_id, second.model_id) == ("bert", "deberta")  # suite order
    assert [(row.correct, row.total) for row in first.rows] == [(8, 10), (7, 10)]
    assert '<section id="confusion">' in html
    assert '<td class="num diag">8</td><td class="num">2</td>' in html
    assert "&lt;b&gt;positive&lt;/b&gt;" in html and "<b>positive</b>" not in html
    assert "70.0%" in html  # recall of the second label


def test_malformed_or_undeclared_matrices_are_left_out(build: type[Build]) -> None:
    declared = _result(build, ["confusion_matrix"])
    broken = [
        _sample("bert", {"labels": ["a", "b"], "matrix": [[1, 2]]}),
        _sample("deberta", {"labels": ["a"], "matrix": [["1"]]}),
    ]
    assert confusion_matrices(declared, broken) == []
    undeclared = _result(build, [])
    assert confusion_matrices(undeclared, [_sample("bert", MATRIX)]) == []
    assert '<section id="confusion">' not in render_html(undeclared, [_sample("bert", MATRIX)])
