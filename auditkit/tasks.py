"""Model tasks: what kind of model a suite entry is, and so which interface its engine offers.

A model's ``task`` selects its engine interface (``auditkit.engine``): a probe declares the tasks
it runs on, and a suite that pairs a probe with a model of another task fails validation.
"""

from __future__ import annotations

from typing import Literal, get_args

Task = Literal[
    "text-generation",
    "text-classification",
    "text2text",
    "speech-recognition",
    "image-classification",
    "object-detection",
]
"""``text-generation``: causal language models (scoring, greedy and seeded generation);
``text-classification``: encoders with a classification head (label probabilities);
``text2text``: encoder-decoders such as T5 and BART (scoring and generation, through the decoder);
``speech-recognition``: audio → transcript (Whisper); ``image-classification``: image → label
probabilities; ``object-detection``: image → boxes with labels and scores."""

ALL_TASKS: tuple[Task, ...] = get_args(Task)
LANGUAGE_TASKS: tuple[Task, ...] = ("text-generation", "text2text")
"""Tasks whose engines implement ``LanguageModel`` (log-likelihood and generation)."""

TASK_ALIASES: dict[str, Task] = {
    "causal-lm": "text-generation",
    "sequence-classification": "text-classification",
    "seq2seq": "text2text",
    "automatic-speech-recognition": "speech-recognition",
}
"""Other names suites use for the same tasks (transformers' pipeline names among them)."""

ITEM_UNITS: dict[Task, str] = {
    "text-generation": "token",
    "text2text": "token",
    "text-classification": "text",
    "speech-recognition": "audio second",
    "image-classification": "image",
    "object-detection": "image",
}
"""What one unit of work is for each task, in throughput figures (per text, per image …)."""


def canonical_task(name: str) -> str:
    """``name`` with an alias replaced by the task it names (unknown names pass through)."""
    return TASK_ALIASES.get(name, name)
