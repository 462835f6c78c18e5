"""Which task a checkpoint was built for, read from its files when a suite does not say.

transformers writes the model class into ``config.json`` (``architectures``); a CTranslate2
Whisper folder has a ``model.bin`` beside a ``config.json`` with Whisper's alignment heads; a GGUF
file holds a causal language model. Anything unreadable (a hub id, no config) gives ``None`` and
the suite's default applies.
"""

from __future__ import annotations

import json
from pathlib import Path

from auditkit.tasks import Task

_ARCHITECTURE_SUFFIXES: tuple[tuple[str, Task], ...] = (
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForSequenceClassification", "text-classification"),
    ("ForSpeechSeq2Seq", "speech-recognition"),
    ("ForCTC", "speech-recognition"),
    ("ForImageClassification", "image-classification"),
    ("ForImageClassificationWithTeacher", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForConditionalGeneration", "text2text"),
    ("ForSeq2SeqLM", "text2text"),
)
_SPEECH_MODEL_TYPES = ("whisper", "speech_to_text", "speech-encoder-decoder")


def infer_task(path: Path | None) -> Task | None:
    """The task of the model at ``path`` (a folder or a GGUF file), or ``None`` if unknown."""
    if path is None:
        return None
    if path.suffix == ".gguf":
        return "text-generation"
    config_file = path / "config.json"
    if not config_file.is_file():
        return None
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    if (path / "model.bin").is_file() and "alignment_heads" in config:
        return "speech-recognition"  # a CTranslate2 Whisper conversion
    model_type = str(config.get("model_type", ""))
    for architecture in config.get("architectures") or []:
        for suffix, task in _ARCHITECTURE_SUFFIXES:
            if str(architecture).endswith(suffix):
                if task == "text2text" and model_type in _SPEECH_MODEL_TYPES:
                    return "speech-recognition"
                return task
    return None
