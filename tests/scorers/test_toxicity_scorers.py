"""Toxicity scorers: profanity-check on known strings; detoxify's own loading code on a tiny
detoxify-format checkpoint built here (offline: no download, the tokenizer from a local folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditkit.scorers import ScorerSpec, build_scorer
from auditkit.scorers.toxicity import DetoxifyScorer, ProfanityCheckScorer
from tests.tiny_classifiers import build_detoxify_checkpoint


def test_profanity_check_scores_known_strings() -> None:
    scorer = build_scorer(ScorerSpec(name="profanity-check"))
    assert isinstance(scorer, ProfanityCheckScorer)
    offensive, polite = scorer.score(["you are a fucking idiot", "have a lovely day"])
    assert offensive > 0.9
    assert polite < 0.2
    assert scorer.score([]) == []
    assert scorer.version.startswith("alt-profanity-check ")


@pytest.fixture(scope="module")
def detoxify_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    return build_detoxify_checkpoint(tmp_path_factory.mktemp("detoxify"))


def expected_scores(model: Any, config_dir: Path, texts: list[str]) -> list[float]:
    """The first class's sigmoid, computed directly on the tiny model."""
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(config_dir)
    with torch.no_grad():
        logits = model(**tokenizer(texts, return_tensors="pt", padding=True)).logits
    return torch.sigmoid(logits)[:, 0].tolist()


def test_detoxify_loads_a_local_checkpoint_offline(
    detoxify_files: tuple[Path, Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    checkpoint, config_dir, model = detoxify_files
    spec = ScorerSpec(
        name="detoxify:original", checkpoint=checkpoint, huggingface_config_path=config_dir
    )
    scorer = DetoxifyScorer(spec)
    texts = ["you are an idiot", "have a nice day", "my friend is deaf"]
    scores = scorer.score(texts)
    assert scores == pytest.approx(expected_scores(model, config_dir, texts), abs=1e-5)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(set(scores)) > 1
    assert scorer.score(texts[:1]) == pytest.approx(scores[:1], abs=1e-5)  # one text: no squeeze
    assert scorer.model.class_names[0] == "toxicity"  # detoxify renames "toxic"
    assert "checkpoint sha256" in scorer.version


def test_detoxify_other_class(detoxify_files: tuple[Path, Path, Any]) -> None:
    checkpoint, config_dir, _ = detoxify_files
    spec = ScorerSpec(
        name="detoxify:original",
        checkpoint=checkpoint,
        huggingface_config_path=config_dir,
        label="insult",
    )
    assert len(DetoxifyScorer(spec).score(["a", "b"])) == 2
    with pytest.raises(ValueError, match="has no class 'nonsense'"):
        DetoxifyScorer(spec.model_copy(update={"label": "nonsense"}))


class Payload:
    """Anything that is not a tensor or plain data: torch's safe loader refuses it."""


def test_a_pickled_checkpoint_needs_allow_pickle(tmp_path: Path) -> None:
    checkpoint, config_dir, _ = build_detoxify_checkpoint(tmp_path, extra=Payload())
    spec = ScorerSpec(
        name="detoxify:original", checkpoint=checkpoint, huggingface_config_path=config_dir
    )
    with pytest.raises(ValueError, match="set 'allow_pickle: true'"):
        DetoxifyScorer(spec)
    allowed = DetoxifyScorer(spec.model_copy(update={"allow_pickle": True}))
    assert len(allowed.score(["hello"])) == 1


def test_a_checkpoint_without_detoxify_keys_is_refused(tmp_path: Path) -> None:
    import torch

    torch.save({"weights": torch.zeros(1)}, tmp_path / "bad.ckpt")
    with pytest.raises(ValueError, match="must hold 'config'"):
        DetoxifyScorer(ScorerSpec(name="detoxify:original", checkpoint=tmp_path / "bad.ckpt"))


def test_detoxify_without_network_or_checkpoint_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # an empty cache

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(RuntimeError, match="use 'scorer: profanity-check'"):
        DetoxifyScorer(ScorerSpec(name="detoxify:unbiased"))
