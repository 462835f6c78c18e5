"""Tiny random transformers models built on the spot: real transformers code, no download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORDS = (
    "the a an of to in is was capital city country river mountain answer question paris berlin "
    "rome madrid water fire earth air red green blue one two three four five yes no i don't know "
    "cat dog bird fish tree house car book sun moon star"
).split()


def build_tokenizer(folder: Path) -> None:
    """A small byte-level BPE tokenizer trained here, saved as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))]
    corpus += ["Question: What is the capital city?\nAnswer: paris", "1 2 3 4 5 6 7 8 9 0 ? ! . ,"]
    tokenizer.train_from_iterator(corpus, trainer)
    # Like Llama's tokenizer, prepend BOS: exercises the BOS handling lm-eval relies on.
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tokenizer.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.save_pretrained(folder)


def tiny_llama(*, tied: bool = False, seed: int = 0) -> Any:
    """A 2-layer Llama with random weights (seeded), in memory, in evaluation mode."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=300,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=2,
        tie_word_embeddings=tied,
    )
    return LlamaForCausalLM(config).eval()


def build_llama(folder: Path, *, seed: int = 0, with_license: str | None = "apache-2.0") -> Path:
    """A 2-layer Llama with random weights and the tokenizer above, saved as safetensors."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    build_tokenizer(folder)
    model = tiny_llama(seed=seed)
    # Random init at this size gives near-uniform predictions; widen the logits so that
    # choices are well separated and greedy decoding is not a tie-break lottery.
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    model.save_pretrained(folder, safe_serialization=True)
    if with_license:
        (folder / "README.md").write_text(
            f"---\nlicense: {with_license}\n---\n# tiny test model\n", encoding="utf-8"
        )
    return folder


def greedy_continuation(engine: Any, text: str, tokens: int = 3) -> tuple[list[int], list[int]]:
    """(context ids, the ``tokens`` ids that greedy decoding appends to ``text``) for an engine
    with ``model``, ``encode`` and ``pad_token_id``."""
    import torch

    context = engine.encode(text)
    ids = torch.tensor([context])
    with torch.no_grad():
        out = engine.model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=tokens,
            do_sample=False,
            pad_token_id=engine.pad_token_id,
        )
    return context, out[0, len(context) :].tolist()
