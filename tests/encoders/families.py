"""Tiny randomly initialised models of six encoder families, with tokenizers trained on shipped text.

No real RoBERTa, ELECTRA or DeBERTa weights exist offline (and the real MPNet is 109 M
parameters), so each family is built here: a
2-layer, hidden-32 model from the family's config class, and a tokenizer of the family's own class
over a vocabulary trained on the quickstart data (WordPiece for the BERT-likes and MPNet, byte-level
BPE for RoBERTa, Unigram for DeBERTa-v2). Dropout is off so training-mode passes are deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

FAMILIES = ("bert", "roberta", "distilbert", "electra", "deberta_v2", "mpnet")

SIZE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]


def shipped_texts(repo_root: Path) -> Iterator[str]:
    """Every sentence of the quickstart training files (the text columns of SST-2, MRPC and RTE)."""
    for path in sorted((repo_root / "data" / "quickstart").glob("*/train.tsv")):
        for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
            yield from (field for field in line.split("\t") if " " in field)


def build_family(family: str, folder: Path, texts: list[str]) -> Path:
    """Write a tiny model of ``family`` and its trained tokenizer to ``folder``; return it."""
    from transformers import (
        BertConfig,
        BertModel,
        BertTokenizer,
        DebertaV2Config,
        DebertaV2Model,
        DebertaV2Tokenizer,
        DistilBertConfig,
        DistilBertModel,
        DistilBertTokenizer,
        ElectraConfig,
        ElectraModel,
        ElectraTokenizer,
        MPNetConfig,
        MPNetModel,
        MPNetTokenizer,
        RobertaConfig,
        RobertaModel,
        RobertaTokenizer,
    )

    torch.manual_seed(0)
    tokenizer: Any
    model: Any
    if family in ("bert", "distilbert", "electra"):
        vocab = _wordpiece(texts)
        if family == "bert":
            tokenizer = BertTokenizer(vocab=vocab)
            model = BertModel(BertConfig(vocab_size=len(vocab), **SIZE, **NO_DROPOUT))
        elif family == "electra":
            tokenizer = ElectraTokenizer(vocab=vocab)
            model = ElectraModel(
                ElectraConfig(vocab_size=len(vocab), embedding_size=16, **SIZE, **NO_DROPOUT)
            )
        else:
            tokenizer = DistilBertTokenizer(vocab=vocab)
            config = DistilBertConfig(
                vocab_size=len(vocab),
                dim=32,
                n_layers=2,
                n_heads=2,
                hidden_dim=64,
                dropout=0.0,
                attention_dropout=0.0,
            )
            model = DistilBertModel(config)
    elif family == "roberta":
        vocab, merges = _byte_level_bpe(texts)
        tokenizer = RobertaTokenizer(vocab=vocab, merges=merges)
        config = RobertaConfig(
            vocab_size=len(vocab),
            max_position_embeddings=130,
            pad_token_id=vocab["<pad>"],
            bos_token_id=vocab["<s>"],
            eos_token_id=vocab["</s>"],
            **SIZE,
            **NO_DROPOUT,
        )
        model = RobertaModel(config)
    elif family == "mpnet":
        vocab = _wordpiece(texts, specials=MPNET_SPECIALS)
        tokenizer = MPNetTokenizer(vocab=vocab)
        config = MPNetConfig(
            vocab_size=len(vocab),
            max_position_embeddings=130,
            pad_token_id=vocab["<pad>"],
            bos_token_id=vocab["<s>"],
            eos_token_id=vocab["</s>"],
            **SIZE,
            **NO_DROPOUT,
        )
        model = MPNetModel(config)
    elif family == "deberta_v2":
        pieces = _unigram(texts)
        tokenizer = DebertaV2Tokenizer(vocab=pieces, unk_id=[p for p, _ in pieces].index("[UNK]"))
        model = DebertaV2Model(
            DebertaV2Config(
                vocab_size=len(pieces),
                relative_attention=True,
                pos_att_type=["p2c", "c2p"],
                **SIZE,
                **NO_DROPOUT,
            )
        )
    else:
        raise ValueError(f"unknown family {family!r}")
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def _wordpiece(texts: list[str], specials: list[str] = BERT_SPECIALS) -> dict[str, int]:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=1000, special_tokens=specials))
    return dict(tokenizer.get_vocab())


def _byte_level_bpe(texts: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=1000,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(merge.split(" ") if isinstance(merge, str) else merge) for merge in model["merges"]]
    return dict(model["vocab"]), merges


def _unigram(texts: list[str]) -> list[tuple[str, float]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=1000, special_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"], unk_token="[UNK]"
    )
    tokenizer.train_from_iterator(texts, trainer)
    return [(piece, float(score)) for piece, score in json.loads(tokenizer.to_str())["model"]["vocab"]]
