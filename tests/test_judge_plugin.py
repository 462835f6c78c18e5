"""A judge is one module: a plugin registers it with its own labelled sets, and its measured card
comes out as a built-in judge's does (the plugin below is the whole diff a new judge needs)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditkit.judges import JUDGES
from auditkit.judges.card import judge_card
from auditkit.plugins import import_modules

PLUGIN_NAME = "auditkit_judge_test_plugin"
PLUGIN = '''\
"""A judge defined outside auditkit: does the reply say yes?"""

from pathlib import Path

from auditkit.judges import Judge, ReplyRow, Verdict, register_judge


@register_judge
class SaysYes(Judge[ReplyRow]):
    name = "test-says-yes"
    version = "1"
    labels = ("yes", "other")
    Row = ReplyRow
    question = "Does the reply start with yes?"
    validation_dir = Path(__file__).parent / "labelled"

    def judge(self, row):
        first = row.reply.strip().split(" ", 1)[0].lower().strip(".,!")
        return Verdict("yes" if first == "yes" else "other", {"first_word": first})
'''

DEVELOPMENT = [("Yes, it is.", "yes"), ("No.", "other"), ("yes!", "yes"), ("Maybe", "other")]
HELD_OUT = [("Yes.", "yes"), ("Yeah sure", "yes"), ("Nope", "other")]  # "Yeah": a miss


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    folder = tmp_path / "plugins"
    (folder / "labelled" / "heldout").mkdir(parents=True)
    (folder / f"{PLUGIN_NAME}.py").write_text(PLUGIN, encoding="utf-8")
    for path, rows in (
        (folder / "labelled" / "test-says-yes.jsonl", DEVELOPMENT),
        (folder / "labelled" / "heldout" / "test-says-yes.jsonl", HELD_OUT),
    ):
        lines = [json.dumps({"reply": reply, "label": label}) for reply, label in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    try:
        import_modules([PLUGIN_NAME])
        yield
    finally:
        JUDGES.pop("test-says-yes", None)
        sys.modules.pop(PLUGIN_NAME, None)


@pytest.mark.usefixtures("plugin")
def test_a_plugin_judge_is_measured_on_its_own_labelled_sets() -> None:
    card = judge_card("test-says-yes")

    assert card.measured_on == "heldout"
    assert (card.n, card.accuracy.value) == (3, pytest.approx(2 / 3))
    assert card.development_accuracy is not None
    assert card.development_accuracy.value == 1.0
    assert card.label("yes").sensitivity.value == pytest.approx(1 / 2)  # "Yeah" missed
