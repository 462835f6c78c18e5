"""Tiny random BERT classifiers built on the spot (real transformers code, no download), and the
detoxify-format checkpoint made from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORDS = (
    "you are an idiot a stupid fool nice lovely day my friend is gay muslim black deaf old young "
    "the cat sat on mat i am man woman we went to shop have good bad hate love people"
).split()
DETOXIFY_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def build_bert_tokenizer(folder: Path) -> None:
    """A WordPiece tokenizer trained here, saved as a transformers BERT tokenizer."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    corpus = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))]
    tokenizer.train_from_iterator(corpus, trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    BertTokenizerFast(tokenizer_object=tokenizer).save_pretrained(folder)


def build_bert_classifier(
    folder: Path, *, labels: list[str], seed: int = 0, multi_label: bool = False
) -> Any:
    """A 1-layer BERT sequence classifier with random weights, saved as safetensors; returns it."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    build_bert_tokenizer(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=200,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification" if multi_label else None,
    )
    model = BertForSequenceClassification(config).eval()
    with torch.no_grad():  # spread the logits so that predictions differ between texts
        model.classifier.weight.mul_(50.0)
    model.save_pretrained(folder, safe_serialization=True)
    return model


def build_detoxify_checkpoint(folder: Path, *, extra: Any = None) -> tuple[Path, Path, Any]:
    """(checkpoint file, config folder, model): a tiny BERT in detoxify's checkpoint format.

    The checkpoint names the hub id ``bert-base-uncased`` as its base config, as detoxify's own
    release checkpoints do; the config folder holds the tiny model's config and tokenizer.
    """
    import torch

    config_dir = folder / "config"
    model = build_bert_classifier(config_dir, labels=DETOXIFY_CLASSES, multi_label=True)
    checkpoint: dict[str, Any] = {
        "config": {
            "arch": {
                "args": {
                    "model_type": "bert-base-uncased",
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                    "num_classes": len(DETOXIFY_CLASSES),
                }
            },
            "dataset": {"args": {"classes": DETOXIFY_CLASSES}},
        },
        "state_dict": model.state_dict(),
    }
    if extra is not None:
        checkpoint["extra"] = extra
    path = folder / "tox.ckpt"
    torch.save(checkpoint, path)
    return path, config_dir, model
