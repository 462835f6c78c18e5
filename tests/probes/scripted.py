"""A scripted sequence classifier for probe tests: label probabilities looked up by text."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from auditkit.engine.classifier import WrongModelTask


class ScriptedClassifier:
    """``probabilities[text]`` is P(toxic) for ``text`` (0.0 for texts not listed)."""

    name = "scripted-classifier"
    labels: ClassVar[list[str]] = ["ok", "toxic"]

    def __init__(self, probabilities: Mapping[str, float]) -> None:
        self.probabilities = dict(probabilities)

    def classify(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> list[dict[str, float]]:
        return [
            {"ok": 1 - self.probabilities.get(t, 0.0), "toxic": self.probabilities.get(t, 0.0)}
            for t in texts
        ]

    def format_chat(self, message: str) -> str:
        raise WrongModelTask("a classifier has no chat template")
