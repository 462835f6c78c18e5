"""Encoder-decoder language models (``text2text``: T5, BART…) through transformers.

A folder or hub id loads with ``AutoModelForSeq2SeqLM`` and ``AutoTokenizer``, becomes the
suite's variant (dtype; int8 or weight-only quantization and pruning through
``variant.transform_weights``, which act on the ``nn.Linear`` layers T5 and BART are made of;
bitsandbytes schemes as they load) and runs behind ``HFSeq2SeqLM``. PEFT adapters and GGUF files
are causal-model formats and are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditkit.errors import ModelLoadError
from auditkit.models.checkpoint import Checkpoint, locate_checkpoint
from auditkit.models.families._info import pytorch_info
from auditkit.models.families._pretrained import pretrained_options
from auditkit.models.loaded import LoadedModel
from auditkit.models.loader import register_builder
from auditkit.models.spec import BNB_SCHEMES, ModelSpec

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


@register_builder("text2text", "transformers")
def load_seq2seq(spec: ModelSpec, device: str, started: float) -> LoadedModel:
    source = spec.parsed_source
    if source.kind not in ("hf", "pkg"):
        raise ModelLoadError(
            f"a text2text model loads from a transformers folder or hub id ('hf:'), not a "
            f"'{source.kind}:' source"
        )
    checkpoint = locate_checkpoint(spec, source)
    if checkpoint.gguf_file:
        raise ModelLoadError("GGUF files hold causal language models, not text2text ones")
    model, tokenizer = _from_pretrained(spec, checkpoint, device)
    parameters = sum(p.numel() for p in model.parameters())
    from auditkit.models.variant import transform_weights

    if spec.quantization in BNB_SCHEMES:
        pass  # placed on its device while loading
    elif spec.device_map is None:
        model.to(device)  # type: ignore[arg-type]  # transformers types to() narrowly
    else:  # placed by accelerate over the visible GPUs: record where each part went
        placed = {str(d) for d in (getattr(model, "hf_device_map", None) or {}).values()}
        device = "auto: " + ", ".join(sorted(f"cuda:{d}" if d.isdigit() else d for d in placed))
    build = transform_weights(model, spec, str(device))
    info = pytorch_info(
        spec, checkpoint, model, build, device=str(device), started=started, parameters=parameters
    )
    from auditkit.engine.seq2seq import HFSeq2SeqLM

    engine = HFSeq2SeqLM(
        model,
        tokenizer,
        name=spec.id,
        bytes_on_disk=info.bytes_on_disk,
        batch_size=spec.batch_size,
    )
    return LoadedModel(spec, engine, info, [model])


def _from_pretrained(
    spec: ModelSpec, checkpoint: Checkpoint, device: str
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    common, options = pretrained_options(spec, checkpoint, device)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint.location, **common)
    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint.location, **options)
    return model, tokenizer
