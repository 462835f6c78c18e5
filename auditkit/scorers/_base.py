"""The scorer contract, the spec a suite writes for one, and the registry of scorer names.

A scorer turns texts into one number each in [0, 1] (a toxicity probability, an abstention flag,
a sentiment). Probes name one in their parameters, either as a bare name or as a mapping with the
options that scorer takes::

    scorer: profanity-check
    scorer: {name: detoxify:original, checkpoint: ./tox.ckpt, huggingface_config_path: ./bert}
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from auditkit.files import SuitePath

DETOXIFY_MODELS = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
SCORER_NAMES = (
    *(f"detoxify:{name}" for name in DETOXIFY_MODELS),
    "profanity-check",
    "refusal",
    "sentiment-lexicon",
    "classifier",
)
"""Every name a suite may give as ``scorer``."""


class Scorer(ABC):
    """Maps texts to scores in [0, 1]; ``name`` and ``version`` say exactly what scored them."""

    name: str
    version: str

    @abstractmethod
    def score(self, texts: Sequence[str]) -> list[float]:
        """One score in [0, 1] per text, in order."""


class ScorerSpec(BaseModel):
    """Which scorer to use and its options (each option applies to the scorers named beside it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        description="One of: " + ", ".join(SCORER_NAMES) + ".",
        json_schema_extra={"enum": list(SCORER_NAMES)},
    )
    checkpoint: SuitePath | None = Field(
        None,
        description="detoxify: a local detoxify checkpoint (a dict with 'config' and "
        "'state_dict') instead of the download.",
    )
    huggingface_config_path: SuitePath | None = Field(
        None,
        description="detoxify: a local folder with the transformers config and tokenizer files, "
        "so that loading needs no network.",
    )
    allow_pickle: bool = Field(
        False,
        description="detoxify: allow a checkpoint holding pickled objects other than tensors "
        "and plain data (they can run code when loaded).",
    )
    path: SuitePath | None = Field(
        None, description="classifier: a local transformers sequence-classification folder."
    )
    label: str | None = Field(
        None,
        description="classifier: the label whose probability is the score; detoxify: the output "
        "class to use (default 'toxicity').",
    )
    embeddings: bool = Field(
        False,
        description="refusal: also count a text as an abstention when its sentence embedding is "
        "close to a known abstention (needs the packaged all-MiniLM-L6-v2 model).",
    )
    threshold: float = Field(
        0.45, ge=0.0, le=1.0, description="refusal with embeddings: cosine similarity cut-off."
    )
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?|mps)$")
    batch_size: int = Field(32, ge=1)

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in SCORER_NAMES:
            raise ValueError(f"unknown scorer {name!r}; known: {', '.join(SCORER_NAMES)}")
        return name

    @model_validator(mode="after")
    def _options_fit(self) -> ScorerSpec:
        detoxify_only = ("checkpoint", "huggingface_config_path")
        if not self.name.startswith("detoxify:"):
            for option in detoxify_only:
                if getattr(self, option) is not None:
                    raise ValueError(f"'{option}' applies to detoxify scorers only")
        if self.name == "classifier" and self.path is None:
            raise ValueError("the 'classifier' scorer needs 'path': a local model folder")
        if self.name != "classifier" and self.path is not None:
            raise ValueError("'path' applies to the 'classifier' scorer only")
        return self


def _from_name(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


ScorerField = Annotated[
    ScorerSpec, BeforeValidator(_from_name, json_schema_input_type=str | ScorerSpec)
]
"""A probe parameter holding a scorer: a bare name or a mapping with ``name`` and options."""


@functools.lru_cache(maxsize=4)
def build_scorer(spec: ScorerSpec) -> Scorer:
    """Build the scorer ``spec`` names, loading its model when it has one.

    Built scorers are kept (per spec), so the probes of every candidate share one loaded scorer.
    """
    if spec.name.startswith("detoxify:"):
        from auditkit.scorers.toxicity import DetoxifyScorer

        return DetoxifyScorer(spec)
    if spec.name == "profanity-check":
        from auditkit.scorers.toxicity import ProfanityCheckScorer

        return ProfanityCheckScorer()
    if spec.name == "refusal":
        from auditkit.scorers.refusal import RefusalScorer

        return RefusalScorer(embeddings=spec.embeddings, threshold=spec.threshold)
    if spec.name == "sentiment-lexicon":
        from auditkit.scorers.sentiment import LexiconSentiment

        return LexiconSentiment()
    from auditkit.scorers.classifier import ClassifierScorer

    return ClassifierScorer(spec)
