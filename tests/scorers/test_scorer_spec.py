"""How a suite names a scorer, and the errors a wrong one gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from auditkit.scorers import ScorerField, ScorerSpec


class Holder(BaseModel):
    scorer: ScorerField


def test_a_bare_name_or_a_mapping(tmp_path: Path) -> None:
    assert Holder.model_validate({"scorer": "profanity-check"}).scorer == ScorerSpec(
        name="profanity-check"
    )
    (tmp_path / "tox.ckpt").write_bytes(b"")
    spec = Holder.model_validate(
        {"scorer": {"name": "detoxify:original", "checkpoint": "tox.ckpt"}},
        context={"base_dir": tmp_path},
    ).scorer
    assert spec.checkpoint == tmp_path / "tox.ckpt"


@pytest.mark.parametrize(
    ("scorer", "message"),
    [
        ("detoxify:huge", "unknown scorer 'detoxify:huge'"),
        ({"name": "profanity-check", "checkpoint": "x.ckpt"}, "file not found"),
        ({"name": "classifier"}, "needs 'path'"),
        ({"name": "refusal", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_scorers_are_reported(tmp_path: Path, scorer: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Holder.model_validate({"scorer": scorer}, context={"base_dir": tmp_path})


def test_detoxify_options_need_a_detoxify_scorer(tmp_path: Path) -> None:
    (tmp_path / "tox.ckpt").write_bytes(b"")
    with pytest.raises(ValidationError, match="applies to detoxify scorers only"):
        Holder.model_validate(
            {"scorer": {"name": "profanity-check", "checkpoint": "tox.ckpt"}},
            context={"base_dir": tmp_path},
        )
