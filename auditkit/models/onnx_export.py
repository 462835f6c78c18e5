"""Export a transformers causal language model to ONNX once, and keep the file by content.

The exported graph is one decoder step with a key/value cache, so ONNX Runtime can score a shared
context once and generate token by token:

- inputs: ``input_ids`` and ``position_ids`` ``[batch, new]``, ``attention_mask``
  ``[batch, 1, new, past + new]`` (boolean, True where a query may attend to a key: the engine
  builds causal, padding and shared-context masks alike), and ``past.{i}.key`` /
  ``past.{i}.value`` ``[batch, kv_heads, past, head_dim]`` per layer (``past`` may be 0);
  and ``logit_positions`` ``[kept]``, the columns of ``new`` whose logits are wanted (the head, a
  quarter of a small model's work per token, runs on those only);
- outputs: ``logits`` ``[batch, kept, vocabulary]`` and ``present.{i}.key`` / ``present.{i}.value``
  (the past with the new positions appended).

The graph is traced from the float32 model with PyTorch's TorchScript-based exporter (about 12 s
for a 135M model on two cores; the dynamo-based exporter took 90 s for the same graph). int8 is
ONNX Runtime's own dynamic quantizer applied to that file: int8 weights per output channel, int8
activations with one scale per tensor computed at run time. The weight-only schemes are ONNX
Runtime's block-wise ``MatMulNBits`` (8 or 4 bits, symmetric, one scale per block of
``group_size`` input weights, activations quantized per block of each row at run time:
``accuracy_level`` 4, the CPU kernels' fast int8 path).

Files live in ``$AUDITKIT_ONNX_CACHE`` (``off`` turns the cache off: a temporary folder per load),
else ``$XDG_CACHE_HOME/auditkit/onnx``, else ``~/.cache/auditkit/onnx``, in a folder named by the
sha256 of the source weights, the scheme and the exporter's versions; ``auditkit-complete`` is
written last, so an interrupted export is redone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.engine.ort import DecoderShape
from auditkit.files import user_cache_folder

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

CACHE_ENV = "AUDITKIT_ONNX_CACHE"
COMPLETE = "auditkit-complete"
EXPORT_VERSION = "2"
"""Bumped whenever the graph's inputs or outputs change, so old files are not reused."""
OPSET = 17


def cache_root() -> Path | None:
    """The folder exported graphs live in, or ``None`` when the cache is off."""
    return user_cache_folder(CACHE_ENV, "onnx")


def export_key(weight_hashes: Sequence[str], scheme: str) -> str:
    """The cache folder's name: source weights, scheme and the exporter's versions."""
    import onnxruntime
    import torch
    import transformers

    digest = hashlib.sha256()
    for part in (*sorted(weight_hashes), scheme, EXPORT_VERSION, str(OPSET)):
        digest.update(part.encode("utf-8") + b"\0")
    versions = (
        f"torch-{torch.__version__}-tf-{transformers.__version__}-ort-{onnxruntime.__version__}"
    )
    return f"{digest.hexdigest()[:32]}-{scheme}-{versions}".replace("+", "_")


ORT_SCHEMES = ("float32", "int8-dynamic", "int8-weight-only", "int4-weight-only")
DEFAULT_BLOCK = 128


def exported_graph(
    model: PreTrainedModel, weight_hashes: Sequence[str], scheme: str, group_size: int | None
) -> tuple[Path, bool]:
    """The ONNX file for ``model`` (float32) in ``scheme`` (one of ``ORT_SCHEMES``), exported
    now or found in the cache; returns (path, whether it was found)."""
    root = cache_root()
    if scheme.endswith("weight-only"):
        scheme = f"{scheme}-g{group_size or DEFAULT_BLOCK}"
    if root is None:
        folder = Path(tempfile.mkdtemp(prefix="auditkit-onnx-"))
    else:
        folder = root / export_key(weight_hashes, scheme)
        if (folder / COMPLETE).is_file():
            return folder / "model.onnx", True
        shutil.rmtree(folder, ignore_errors=True)  # interrupted or damaged: start again
    folder.mkdir(parents=True, exist_ok=True)
    if scheme == "float32":
        with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".export-") as scratch:
            export_decoder(model, Path(scratch) / "model.onnx")
            for file in Path(scratch).iterdir():  # the graph and any external-data files
                shutil.move(str(file), str(folder / file.name))
    else:  # quantized from the float32 graph, itself exported once for every scheme
        float32, _ = exported_graph(model, weight_hashes, "float32", None)
        if scheme == "int8-dynamic":
            quantize_int8(float32, folder / "model.onnx")
        else:
            bits = 8 if scheme.startswith("int8") else 4
            quantize_blockwise(float32, folder / "model.onnx", bits, group_size or DEFAULT_BLOCK)
    (folder / COMPLETE).write_text(scheme + "\n", encoding="utf-8")
    return folder / "model.onnx", False


def export_decoder(model: PreTrainedModel, path: Path) -> None:
    """Trace ``model``'s one-step decoder with a cache (see the module docstring) into ``path``."""
    import torch

    shape = DecoderShape.of(model.config)
    step = _DecoderStep(model, shape.layers).eval()
    batch, new, past = 2, 3, 2
    names_in = ["input_ids", "position_ids", "attention_mask", "logit_positions"]
    names_out = ["logits"]
    caches: list[torch.Tensor] = []
    dynamic: dict[str, dict[int, str]] = {
        "input_ids": {0: "batch", 1: "new"},
        "position_ids": {0: "batch", 1: "new"},
        "attention_mask": {0: "batch", 2: "new", 3: "total"},
        "logit_positions": {0: "kept"},
        "logits": {0: "batch", 1: "kept"},
    }
    for layer in range(shape.layers):
        for part in ("key", "value"):
            names_in.append(f"past.{layer}.{part}")
            names_out.append(f"present.{layer}.{part}")
            dynamic[f"past.{layer}.{part}"] = {0: "batch", 2: "past"}
            dynamic[f"present.{layer}.{part}"] = {0: "batch", 2: "total"}
            caches.append(torch.zeros(batch, shape.kv_heads, past, shape.head_dim))
    input_ids = torch.ones(batch, new, dtype=torch.long)
    position_ids = torch.arange(past, past + new).expand(batch, new)
    mask = torch.ones(batch, 1, new, past + new, dtype=torch.bool).tril(diagonal=past)
    keep = torch.tensor([0, new - 1])
    with _quiet_export(), torch.no_grad():
        torch.onnx.export(
            step,
            (input_ids, position_ids, mask, keep, *caches),
            str(path),
            input_names=names_in,
            output_names=names_out,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )


def quantize_int8(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic quantization: int8 weights per output channel, activations per
    tensor at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet_export():
        quantize_dynamic(
            str(source),
            str(target),
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul"],
            use_external_data_format=_large(source),
        )


def quantize_blockwise(source: Path, target: Path, bits: int, block: int) -> None:
    """ONNX Runtime's weight-only ``MatMulNBits``: symmetric ``bits``-bit weights, one scale per
    ``block`` input weights of each output channel."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    with _quiet_export():
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(source)),
            bits=bits,
            block_size=block,
            is_symmetric=True,
            accuracy_level=4,
            op_types_to_quantize=("MatMul",),
        )
        quantizer.process()
        quantizer.model.save_model_to_file(str(target), use_external_data_format=_large(source))


class _DecoderStep:
    """Built lazily as a ``torch.nn.Module`` subclass (torch is imported only when exporting)."""

    def __new__(cls, model: PreTrainedModel, layers: int) -> Any:
        import torch
        from transformers import DynamicCache

        class DecoderStep(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(
                self,
                input_ids: torch.Tensor,
                position_ids: torch.Tensor,
                attention_mask: torch.Tensor,
                logit_positions: torch.Tensor,
                *past: torch.Tensor,
            ) -> tuple[torch.Tensor, ...]:
                cache = DynamicCache()
                for layer in range(layers):
                    cache.update(past[2 * layer], past[2 * layer + 1], layer)
                out = self.model(
                    input_ids=input_ids,
                    position_ids=position_ids,
                    attention_mask=attention_mask,
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=logit_positions,
                )
                presents: list[torch.Tensor] = []
                for layer in range(layers):
                    presents.extend(_layer_cache(out.past_key_values, layer))
                return (out.logits, *presents)

        return DecoderStep()


def _layer_cache(cache: Any, layer: int) -> tuple[Any, Any]:
    entry = cache.layers[layer]
    return entry.keys, entry.values


def _large(path: Path) -> bool:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) >= 2**31 - 2**20


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """The exporter's tracer warnings and the quantizer's advice are about the graph's
    internals, not something a user can act on: keep the run's output clean."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)
