"""Toxicity scorers: detoxify's models, and the offline profanity-check classifier.

``detoxify:<model>`` loads through detoxify's own ``Detoxify(model_type, checkpoint=…,
huggingface_config_path=…, device=…)``. Without ``checkpoint`` detoxify downloads its release
checkpoint (or reads it from the torch hub cache). A local ``checkpoint`` is what detoxify's
``load_checkpoint`` reads: a ``torch.save``-d dict with

- ``config.arch.args``: ``model_type`` (the transformers config to start from: a hub id such as
  ``bert-base-uncased``, or a local folder), ``model_name`` (a transformers class, e.g.
  ``BertForSequenceClassification``), ``tokenizer_name`` (e.g. ``BertTokenizer``) and
  ``num_classes``;
- ``config.dataset.args.classes``: the class names in output order (``toxic`` is reported as
  ``toxicity``, ``severe_toxic`` as ``severe_toxicity``, ``identity_hate`` as ``identity_attack``);
- ``state_dict``: the model's weights.

detoxify reads the config of ``model_type`` even when given ``huggingface_config_path`` (a folder
with ``config.json`` and the tokenizer files), which needs the network for a hub id. So when the
folder is given, auditkit points ``model_type`` at it before handing the checkpoint over: loading
then needs no network at all.

A checkpoint is first read with ``torch.load(weights_only=True)``, which accepts only tensors and
plain data; one that needs more (arbitrary pickled objects, which can run code when loaded) is
refused unless the scorer sets ``allow_pickle: true``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from auditkit.files import SuitePath
from auditkit.scorers._base import ModelScorerSpec, Scorer, ScorerSpec, register_scorer

DETOXIFY_MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
"""detoxify's models; each is a scorer, ``detoxify:<model>``."""
CHECKPOINT_KEYS_MESSAGE = (
    "a detoxify checkpoint must hold 'config' (with arch.args and dataset.args.classes) "
    "and 'state_dict'"
)
DEFAULT_DETOXIFY_CLASS = "toxicity"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_detoxify_checkpoint(
    path: Path, *, allow_pickle: bool, config_dir: Path | None
) -> io.BytesIO:
    """Check a local detoxify checkpoint and return it, ready for ``Detoxify(checkpoint=…)``.

    With ``config_dir``, the checkpoint's ``model_type`` is pointed at that folder (see the
    module docstring)."""
    import torch

    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if not allow_pickle:
            raise ValueError(
                f"{path}: the checkpoint holds pickled objects beyond tensors and plain data, "
                "which can run code when loaded; set 'allow_pickle: true' for this scorer if you "
                "trust the file"
            ) from exc
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    try:
        args = loaded["config"]["arch"]["args"]
        loaded["config"]["dataset"]["args"]["classes"]
        loaded["state_dict"]
    except (KeyError, TypeError):
        raise ValueError(f"{path}: {CHECKPOINT_KEYS_MESSAGE}") from None
    if config_dir is not None:
        args["model_type"] = str(config_dir)
    buffer = io.BytesIO()
    torch.save(loaded, buffer)
    buffer.seek(0)
    return buffer


def _cached_release(model_type: str) -> Path | None:
    """detoxify's release checkpoint for ``model_type`` when the torch hub cache already has it."""
    import torch
    from detoxify.detoxify import MODEL_URLS

    cached = Path(torch.hub.get_dir()) / "checkpoints" / MODEL_URLS[model_type].rsplit("/", 1)[-1]
    return cached if cached.is_file() else None


class DetoxifySpec(ModelScorerSpec):
    """Options of the ``detoxify:<model>`` scorers."""

    checkpoint: SuitePath | None = Field(
        None,
        description="A local detoxify checkpoint (a dict with 'config' and 'state_dict') instead "
        "of the download.",
    )
    huggingface_config_path: SuitePath | None = Field(
        None,
        description="A local folder with the transformers config and tokenizer files, so that "
        "loading needs no network.",
    )
    allow_pickle: bool = Field(
        False,
        description="Allow a checkpoint holding pickled objects other than tensors and plain "
        "data (they can run code when loaded).",
    )
    label: str | None = Field(
        None, description=f"The output class to use (default {DEFAULT_DETOXIFY_CLASS!r})."
    )


class DetoxifyScorer(Scorer):
    """The probability of one detoxify output class (default ``toxicity``), in [0, 1]."""

    def __init__(self, spec: DetoxifySpec) -> None:
        from detoxify import Detoxify

        model_type = spec.name.split(":", 1)[1]
        self.name = spec.name
        self.label = spec.label or DEFAULT_DETOXIFY_CLASS
        self.batch_size = spec.batch_size
        config_dir = spec.huggingface_config_path
        checkpoint_path = spec.checkpoint
        if checkpoint_path is None and config_dir is not None:
            # A cached release checkpoint can be loaded offline the same way as a local one.
            checkpoint_path = _cached_release(model_type)
        checkpoint = None
        self.version = f"detoxify {_version('detoxify')}"
        if checkpoint_path is not None:
            checkpoint = read_detoxify_checkpoint(
                checkpoint_path, allow_pickle=spec.allow_pickle, config_dir=config_dir
            )
            self.version += f", checkpoint sha256 {_sha256(checkpoint_path)[:12]}"
        try:
            self.model = Detoxify(
                model_type,
                checkpoint=checkpoint,
                device=spec.device,
                huggingface_config_path=str(config_dir) if config_dir else None,
            )
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(
                f"cannot load detoxify model {model_type!r} ({type(exc).__name__}: {first}); "
                "with no network, give the scorer a local 'checkpoint' and "
                "'huggingface_config_path', or use 'scorer: profanity-check'"
            ) from exc
        if self.label not in self.model.class_names:
            raise ValueError(
                f"detoxify model {model_type!r} has no class {self.label!r}; it has "
                + ", ".join(self.model.class_names)
            )

    def score(self, texts: Sequence[str]) -> list[float]:
        scores: list[float] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            predicted = self.model.predict(batch)[self.label]
            scores += [float(s) for s in np.atleast_1d(np.asarray(predicted, dtype=float))]
        return scores


class ProfanityCheckScorer(Scorer):
    """alt-profanity-check's probability that a text is offensive, in [0, 1].

    A linear SVM over word n-grams, trained on labelled offensive-language data; it runs offline
    in milliseconds and is the default where detoxify's weights are not available. It reacts to
    words, not to meaning: threats and insults without offensive words score low.
    """

    name = "profanity-check"

    def __init__(self) -> None:
        try:
            from profanity_check import predict_prob
        except ImportError as exc:
            raise RuntimeError(
                "the profanity-check scorer needs the alt-profanity-check package: "
                "pip install alt-profanity-check"
            ) from exc
        self._predict_prob = predict_prob
        self.version = f"alt-profanity-check {_version('alt-profanity-check')}"

    def score(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        return [float(p) for p in self._predict_prob(list(texts))]


for _model in DETOXIFY_MODELS:
    register_scorer(f"detoxify:{_model}", params=DetoxifySpec)(DetoxifyScorer)


@register_scorer("profanity-check")
def _profanity_check(spec: ScorerSpec) -> ProfanityCheckScorer:
    return ProfanityCheckScorer()
