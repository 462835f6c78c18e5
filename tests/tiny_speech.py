"""A tiny random Whisper built on the spot: real transformers code, no download.

The tokenizer is a byte-level BPE trained here on a few words, with Whisper's special tokens
after it in Whisper's order (end of text, start of transcript, languages, tasks, start of LM,
start of previous, no captions, no timestamps), wrapped as a ``WhisperTokenizer``; the feature
extractor is Whisper's (80 mel bins, 30 s windows at 16 kHz).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WORDS = (
    "the a of to in is cat dog sat on mat one two three four five water boils at hundred "
    "degrees bridge river city train leaves from platform morning evening"
).split()
LANGUAGES = ("<|en|>", "<|fr|>")
SPECIALS = (
    "<|startoftranscript|>",
    *LANGUAGES,
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)


def build_whisper_tokenizer() -> Any:
    """A ``WhisperTokenizer``: 300 BPE tokens, then ``<|endoftext|>`` and ``SPECIALS``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import WhisperTokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator([" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))], trainer)
    trained = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split()) for m in trained["merges"]]
    tokenizer = WhisperTokenizer(vocab=trained["vocab"], merges=merges)  # <|endoftext|>: 300
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIALS)})
    return tokenizer


def build_whisper(
    folder: Path,
    *,
    multilingual: bool = False,
    seed: int = 0,
    with_license: str | None = "apache-2.0",
) -> Path:
    """A 1+1-layer Whisper (d_model 16) with random weights (seeded), its processor and
    generation config, saved as safetensors in ``folder``. ``multilingual`` gives it language
    and task tokens (English and French; transcribe and translate) as multilingual Whispers have;
    otherwise it is English-only, like ``tiny.en``."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_whisper_tokenizer()
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in ("<|endoftext|>", *SPECIALS)}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer
    ).save_pretrained(folder)
    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=80,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_source_positions=1500,
        max_target_positions=64,
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        decoder_start_token_id=start,
        begin_suppress_tokens=None,
        suppress_tokens=None,
        tie_word_embeddings=False,
    )
    model = WhisperForConditionalGeneration(config).eval()
    # At random initialisation the encoder's sinusoidal positions drown its convolutions and the
    # decoder's cross-attention averages over the whole window, so every clip would decode to
    # the same text: sharpen the audio path and widen the logits until different audio decodes
    # differently.
    with torch.no_grad():
        encoder, cross = model.model.encoder, model.model.decoder.layers[0].encoder_attn
        for weight in (encoder.conv1.weight, encoder.conv2.weight, *_cross_weights(cross)):
            weight.mul_(30.0)
        model.proj_out.weight.mul_(30.0)
    generation: dict[str, Any] = {
        "decoder_start_token_id": start,
        "bos_token_id": end,
        "eos_token_id": end,
        "pad_token_id": end,
        "no_timestamps_token_id": ids["<|notimestamps|>"],
        "prev_sot_token_id": ids["<|startofprev|>"],
        "max_length": 64,
        "is_multilingual": multilingual,
    }
    if multilingual:
        generation["lang_to_id"] = {token: ids[token] for token in LANGUAGES}
        generation["task_to_id"] = {
            "transcribe": ids["<|transcribe|>"],
            "translate": ids["<|translate|>"],
        }
    model.generation_config = GenerationConfig(**generation)
    model.save_pretrained(folder, safe_serialization=True)
    if with_license:
        (folder / "README.md").write_text(
            f"---\nlicense: {with_license}\n---\n# tiny test Whisper\n", encoding="utf-8"
        )
    return folder


def _cross_weights(attention: Any) -> list[Any]:
    return [attention.q_proj.weight, attention.k_proj.weight, attention.out_proj.weight]
