"""Weight-only quantization with torchao: ``int8-weight-only`` and ``int4-weight-only``.

What is quantized: the ``weight`` of every ``torch.nn.Linear`` layer in the pruning scope
``linear`` (``auditkit.models.pruning.linear_weights``): every linear layer except the output head
and any layer whose weight is tied to the input embeddings or the head. Biases, embeddings and
norms keep their dtype; activations stay in floating point.

Schemes:

- ``int8-weight-only``: torchao's ``Int8WeightOnlyConfig``, symmetric int8 per output channel.
  At every forward pass the int8 weights are converted to the activations' dtype and multiplied
  as floats (on every device), then scaled per output channel. Each token's output depends on
  that token alone, as in the float model.
- ``int4-weight-only``: asymmetric int4 in groups of ``group_size`` consecutive input weights
  (one scale and zero point per group), computed by PyTorch's int4 "tinygemm" kernels:
  ``_weight_int4pack_mm_for_cpu`` on a CPU (torchao's ``PrototypeInt4WeightOnlyConfig``,
  group sizes 32, 64 and 128 only) and ``_weight_int4pack_mm`` on CUDA (``Int4WeightOnlyConfig``
  with the ``tile_packed_to_4d`` packing; compute capability 8.0 or newer, bfloat16 weights and
  products: a float32 model's quantized layers take bfloat16 inputs and return float32). Every
  in-scope layer's ``in_features`` must be a multiple of ``group_size`` (torchao would silently
  leave such a layer unquantized; here the load fails and says which group size fits).

Speed on a CPU (measured on SmolLM2-135M, 2-core AVX2 machine, against its float32 model):
``int8-weight-only`` takes 1.3× the time to score and 1.7× to generate (the weights are converted
at every product); ``int4-weight-only`` on float32 weights takes ~45× to score and ~4× to generate:
the CPU int4 kernel has no fast float32 path (on bfloat16 weights it is faster than bfloat16
without quantization).

The model must already be on its device (the packed int4 layout is device-specific). torchao's
import logs messages about optional C++ extensions and Triton that it cannot load, none of which
these schemes use; ``auditkit.library_logs`` keeps them out of the run's output.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

from auditkit.errors import ModelLoadError
from auditkit.library_logs import quiet_library_logs
from auditkit.results import QuantizationDetail

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

LIBRARY = "torchao"
SCHEMES = ("int8-weight-only", "int4-weight-only")
INT4_GROUP_SIZES = (32, 64, 128, 256)
CPU_INT4_GROUP_SIZES = (32, 64, 128)
"""Group sizes torchao packs for the CPU int4 kernel."""
DEFAULT_GROUP_SIZE = 128
MIN_TORCHAO = (0, 18)
"""The first torchao with the CPU int4 layout used here (``PrototypeInt4WeightOnlyConfig``)."""
MIN_TORCH_CPU_INT4 = (2, 6)
"""The first torch with the CPU int4 kernel ``_weight_int4pack_mm_for_cpu``."""
INSTALL = "pip install 'torchao>=0.18,<0.19'"


def weight_only_support(scheme: str, device: str, group_size: int | None = None) -> str | None:
    """``None`` when ``scheme`` can run on ``device`` with the installed packages, else one line
    saying why not and what to do. ``group_size``: the suite's, for ``int4-weight-only``.

    Cheap: reads package versions and imports neither torchao nor torch (torch only for
    ``device: auto`` when the CPU could not run the scheme), and never initialises CUDA, so a GPU
    older than compute capability 8.0 is reported at load instead."""
    if scheme not in SCHEMES:
        return f"unknown weight-only scheme {scheme!r}: use " + " or ".join(map(repr, SCHEMES))
    if importlib.util.find_spec("torchao") is None:
        return f"'{scheme}' needs torchao: {INSTALL}"
    found = _version("torchao")
    if found is not None and found < MIN_TORCHAO:
        return (
            f"'{scheme}' needs torchao {_dotted(MIN_TORCHAO)} or newer (found "
            f"{importlib.metadata.version('torchao')}): {INSTALL}"
        )
    if scheme == "int8-weight-only":
        return None
    kind = device.partition(":")[0]
    if kind == "cuda":
        return None
    if kind not in ("cpu", "auto"):
        return f"no int4 weight-only kernel for device {device!r}: use 'int8-weight-only'"
    problem = _cpu_int4_problem(group_size)
    if problem is None or kind == "cpu":
        return problem
    import torch

    return None if torch.cuda.is_available() else problem


def _cpu_int4_problem(group_size: int | None) -> str | None:
    torch_version = _version("torch")
    if torch_version is not None and torch_version < MIN_TORCH_CPU_INT4:
        return (
            f"no int4 CPU kernel in torch {importlib.metadata.version('torch')}: upgrade torch "
            f"to {_dotted(MIN_TORCH_CPU_INT4)} or newer, or use 'int8-weight-only'"
        )
    if group_size is not None and group_size not in CPU_INT4_GROUP_SIZES:
        return f"'group_size: {group_size}' has no int4 CPU kernel: use " + ", ".join(
            map(str, CPU_INT4_GROUP_SIZES)
        )
    return None


def weight_only_detail(scheme: str, group_size: int | None = None) -> QuantizationDetail:
    """What ``scheme`` does to the weights, as results record it."""
    if scheme == "int8-weight-only":
        return QuantizationDetail(scheme=scheme, library=LIBRARY, weight_bits=8)
    if scheme == "int4-weight-only":
        return QuantizationDetail(
            scheme=scheme,
            library=LIBRARY,
            weight_bits=4,
            group_size=group_size or DEFAULT_GROUP_SIZE,
        )
    raise ValueError(f"unknown weight-only scheme {scheme!r}")


def quantize_weight_only(
    model: nn.Module, scheme: str, group_size: int | None, device: str
) -> QuantizationDetail:
    """Quantize the in-scope linear layers of ``model`` (already on ``device``) in place.

    ``group_size`` applies to ``int4-weight-only`` (default 128). Raises ``ModelLoadError`` when
    the scheme cannot run here (see ``weight_only_support``), when the model has no linear layer
    in scope, or when a layer's ``in_features`` is not a multiple of the group size."""
    detail = weight_only_detail(scheme, group_size)
    problem = weight_only_support(scheme, device, detail.group_size)
    if problem is not None:
        raise ModelLoadError(problem)
    layers = _layers_in_scope(model)
    if not layers:
        raise ModelLoadError(f"'{scheme}': the model has no linear layers to quantize")
    kind = _device_kind(device)
    for name, module in layers:
        if module.weight.device.type != kind:
            raise ModelLoadError(
                f"'{scheme}': layer {name!r} is on {module.weight.device}, not {device}: move "
                "the model to its device before quantizing"
            )
    if detail.group_size is not None:
        _check_groups(layers, detail.group_size, scheme)
    if scheme == "int4-weight-only" and kind == "cuda":
        _check_tinygemm(device)
    config = _config(scheme, detail.group_size, kind)
    bfloat16 = kind == "cuda" and scheme == "int4-weight-only"
    _quantize(model, layers, config, bfloat16=bfloat16)
    return detail


def import_torchao() -> ModuleType:
    """``import torchao`` without its import-time log output (see ``auditkit.library_logs``)."""
    quiet_library_logs()
    import torchao

    return torchao


def has_torchao_weights(model: nn.Module) -> bool:
    """Whether some parameter of ``model`` is a torchao quantized tensor (a tensor subclass that
    casts such as ``.float()`` do not de-quantize)."""
    return any(type(p.data).__module__.startswith("torchao.") for p in model.parameters())


def _version(package: str) -> tuple[int, int] | None:
    """(major, minor) of an installed package, or ``None`` when unknown."""
    try:
        text = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    parts = text.split("+")[0].split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def _device_kind(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device).type


def _layers_in_scope(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The ``nn.Linear`` modules whose weight is in the ``linear`` scope, in module order (a
    weight shared by several modules: every one of them)."""
    from torch import nn

    from auditkit.models.pruning import linear_weights

    in_scope = {id(weight) for weight in linear_weights(model)}
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and id(module.weight) in in_scope
    ]


def _check_groups(layers: list[tuple[str, nn.Linear]], group_size: int, scheme: str) -> None:
    misfits = [(name, m.in_features) for name, m in layers if m.in_features % group_size]
    if not misfits:
        return
    name, features = misfits[0]
    fitting = [g for g in INT4_GROUP_SIZES if all(m.in_features % g == 0 for _, m in layers)]
    advice = f"set 'group_size: {max(fitting)}'" if fitting else "use 'int8-weight-only'"
    others = f" (and {len(misfits) - 1} more)" if len(misfits) > 1 else ""
    raise ModelLoadError(
        f"'{scheme}' with group size {group_size}: layer {name!r}{others} has {features} input "
        f"features, not a multiple of {group_size}: {advice}"
    )


def _check_tinygemm(device: str) -> None:
    import torch

    major, minor = torch.cuda.get_device_capability(torch.device(device))
    if major < 8:
        raise ModelLoadError(
            f"'int4-weight-only' on CUDA needs compute capability 8.0 or newer (this GPU has "
            f"{major}.{minor}): use 'int8-weight-only' or 'bnb-nf4'"
        )


def _config(scheme: str, group_size: int | None, kind: str) -> Any:
    """The torchao config for ``scheme`` on a device of ``kind`` (inductor settings untouched:
    torchao would otherwise change process-wide torch.compile options)."""
    import_torchao()
    if scheme == "int8-weight-only":
        from torchao.quantization import Int8WeightOnlyConfig

        return Int8WeightOnlyConfig(set_inductor_config=False)
    assert group_size is not None
    if kind == "cpu":
        from torchao.prototype.quantization.int4.inference_workflow import (
            PrototypeInt4WeightOnlyConfig,
        )

        return PrototypeInt4WeightOnlyConfig(group_size=group_size, set_inductor_config=False)
    from torchao.quantization import Int4WeightOnlyConfig
    from torchao.quantization.quantize_.workflows import Int4PackingFormat

    return Int4WeightOnlyConfig(
        group_size=group_size,
        int4_packing_format=Int4PackingFormat.TILE_PACKED_TO_4D,
        set_inductor_config=False,
    )


def _quantize(
    model: nn.Module,
    layers: list[tuple[str, nn.Linear]],
    config: Any,
    *,
    bfloat16: bool,
) -> None:
    """Apply ``config`` to each distinct in-scope weight once; modules sharing that weight get the
    quantized one too."""
    import torch
    from torch import nn
    from torchao.quantization import quantize_

    chosen: dict[int, nn.Linear] = {}
    sharing: dict[int, list[nn.Linear]] = {}
    for _, module in layers:
        chosen.setdefault(id(module.weight), module)
        sharing.setdefault(id(module.weight), []).append(module)
    targets = {id(module) for module in chosen.values()}
    if bfloat16:  # the CUDA int4 kernel packs bfloat16 weights only
        for module in chosen.values():
            if module.weight.dtype != torch.bfloat16:
                module.weight = nn.Parameter(module.weight.detach().to(torch.bfloat16), False)
    originals = {id(module): key for key, module in chosen.items()}
    quantize_(model, config, filter_fn=lambda module, _name: id(module) in targets)
    for module in chosen.values():
        for other in sharing[originals[id(module)]]:
            if other is not module:
                other.weight = module.weight
