"""Tiny random encoder-decoders (T5, BART) built on the spot: real transformers code, no download.

Each gets a byte-level BPE tokenizer trained here (as ``tests/tiny_models.py`` builds the tiny
Llama's), with the special tokens of its family: T5 appends ``</s>`` to every text and has pad id
0 (its decoder start token); BART wraps a text in ``<s> … </s>`` and starts its decoder from
``</s>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tiny_models import WORDS

VOCAB_SIZE = 300
MAX_POSITIONS = 64


def build_seq2seq_tokenizer(folder: Path, *, family: str) -> None:
    """A small byte-level BPE tokenizer with ``family``'s (``t5`` or ``bart``) special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>"] if family == "t5" else ["<s>", "</s>", "<pad>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))]
    corpus += ["Question: What is the capital city?\nAnswer: paris", "1 2 3 4 5 6 7 8 9 0 ? ! . ,"]
    tokenizer.train_from_iterator(corpus, trainer)
    eos = tokenizer.token_to_id("</s>")
    if family == "t5":
        tokenizer.post_processor = processors.TemplateProcessing(
            single="$A </s>", special_tokens=[("</s>", eos)]
        )
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
        )
    else:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>",
            special_tokens=[("<s>", tokenizer.token_to_id("<s>")), ("</s>", eos)],
        )
        fast = PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
        )
    fast.save_pretrained(folder)


def tiny_t5(*, seed: int = 0) -> Any:
    """A 2-layer T5 with random weights (seeded) and an untied head (T5's initialisation already
    spreads its logits widely), whose pad row is zero so that greedy decoding writes text."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=VOCAB_SIZE,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        n_positions=MAX_POSITIONS,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        tie_word_embeddings=False,
    )
    model = T5ForConditionalGeneration(config).eval()
    with torch.no_grad():  # at random, pad (the decoder start) predicts itself forever
        model.lm_head.weight[config.pad_token_id].zero_()
    return model


def tiny_bart(*, seed: int = 0) -> Any:
    """A 2-layer BART with random weights (seeded), untied head scaled so greedy has no ties."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=VOCAB_SIZE,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=2,
        decoder_start_token_id=1,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
        tie_word_embeddings=False,
    )
    model = BartForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(20.0)
    return model


def build_seq2seq(
    folder: Path, *, family: str = "t5", seed: int = 0, with_license: str | None = "apache-2.0"
) -> Path:
    """A tiny ``family`` (``t5`` or ``bart``) model and its tokenizer, saved as safetensors."""
    folder.mkdir(parents=True, exist_ok=True)
    build_seq2seq_tokenizer(folder, family=family)
    model = tiny_t5(seed=seed) if family == "t5" else tiny_bart(seed=seed)
    model.save_pretrained(folder, safe_serialization=True)
    if with_license:
        (folder / "README.md").write_text(
            f"---\nlicense: {with_license}\n---\n# tiny test model\n", encoding="utf-8"
        )
    return folder
