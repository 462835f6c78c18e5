"""Build the variant a suite asks for from a loaded float model: pruning, quantization, runtime.

Order: pruning (on float weights), then quantization or export. Each step returns what it did,
for the model's info, and the notes a reader of the variant's numbers must see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditkit.models.spec import BNB_SCHEMES, WEIGHT_ONLY_SCHEMES, ModelSpec
from auditkit.results import ModelFile, PruningDetail, QuantizationDetail

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from auditkit.engine.ort import OrtCausalLM


@dataclass
class VariantBuild:
    """What building the variant did (recorded in ``ModelInfo``)."""

    quantization: QuantizationDetail | None = None
    pruning: PruningDetail | None = None
    runtime_detail: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra_files: list[ModelFile] = field(default_factory=list)
    """Files the variant runs from besides the source's (an exported ONNX graph)."""


def transform_weights(model: PreTrainedModel, spec: ModelSpec, device: str) -> VariantBuild:
    """Prune and quantize ``model`` in place (PyTorch schemes); the model is on ``device``."""
    build = VariantBuild()
    if spec.pruning is not None:
        from auditkit.models.pruning import prune, pruning_note

        build.pruning = prune(model, spec.pruning)
        build.notes.append(pruning_note(build.pruning, device))
    scheme = spec.quantization
    if spec.runtime != "transformers" or scheme is None or scheme in BNB_SCHEMES:
        if scheme in BNB_SCHEMES:
            from auditkit.models.bnb import bnb_detail

            build.quantization = bnb_detail(scheme)
        return build
    if scheme == "int8-dynamic":
        from auditkit.models.quantize import quantize_int8_dynamic

        quantize_int8_dynamic(model)
        build.quantization = QuantizationDetail(
            scheme=scheme, library="auditkit", weight_bits=8, activation_bits=8
        )
    elif scheme in WEIGHT_ONLY_SCHEMES:
        from auditkit.models.weight_only import quantize_weight_only

        build.quantization = quantize_weight_only(model, scheme, spec.group_size, device)
    return build


def onnxruntime_engine(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    spec: ModelSpec,
    *,
    device: str,
    weight_hashes: list[str],
) -> tuple[OrtCausalLM, VariantBuild]:
    """Export ``model`` (float32) to ONNX (or find the export), quantize it when asked, and
    open it on ONNX Runtime."""
    import onnxruntime

    from auditkit.engine.hf_tokens import config_max_length
    from auditkit.engine.ort import DecoderShape, OrtCausalLM, graph_footprint, session_for
    from auditkit.models.metadata import describe_files
    from auditkit.models.onnx_export import DEFAULT_BLOCK, exported_graph
    from auditkit.models.support import default_providers

    build = VariantBuild()
    scheme = spec.quantization or "float32"
    started = time.perf_counter()
    path, found = exported_graph(model, weight_hashes, scheme, spec.group_size)
    took = time.perf_counter() - started
    available = set(onnxruntime.get_available_providers())
    providers = (
        spec.providers
        or [p for p in default_providers(device) if p in available]
        or ["CPUExecutionProvider"]
    )
    session = session_for(path, providers)
    files = describe_files(_graph_files(path))
    build.extra_files = files
    build.runtime_detail = {
        "providers": ", ".join(session.get_providers()),
        "graph": files[0].sha256[:16],
        "export": "found in the cache" if found else f"exported in {took:.1f} s",
        "onnxruntime": onnxruntime.__version__,
    }
    if spec.quantization in WEIGHT_ONLY_SCHEMES:
        build.quantization = QuantizationDetail(
            scheme=spec.quantization,
            library="onnxruntime",
            weight_bits=8 if spec.quantization.startswith("int8") else 4,
            group_size=spec.group_size or DEFAULT_BLOCK,
        )
    if spec.quantization == "int8-dynamic":
        build.quantization = QuantizationDetail(
            scheme="int8-dynamic", library="onnxruntime", weight_bits=8, activation_bits=8
        )
        build.notes.append(
            "ONNX Runtime int8: one activation scale per tensor, so it scores one context and "
            "one continuation per call (a batch-mate would move the scale and the score)"
        )
    bytes_on_disk = sum(f.bytes for f in files)
    engine = OrtCausalLM(
        session,
        tokenizer,
        DecoderShape.of(model.config),
        name=spec.id,
        max_length=config_max_length(model.config),
        exact=spec.quantization == "int8-dynamic",
        footprint=graph_footprint(path, device=device, bytes_on_disk=bytes_on_disk),
        batch_size=spec.batch_size,
    )
    return engine, build


def _graph_files(path: Path) -> list[Path]:
    """The graph and its external-data files, graph first."""
    return [path, *sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name + "."))]
