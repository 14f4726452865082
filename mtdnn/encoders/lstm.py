"""A bidirectional LSTM encoder over word embeddings (random, or a Hugging Face model's)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from mtdnn.config.checks import check_probability
from mtdnn.encoders.base import Encoder, Features, Pieces, TokenVocabulary
from mtdnn.encoders.pretrained import PretrainedModel
from mtdnn.encoders.vocabulary import HuggingFaceIds, TokenIds, WordIds
from mtdnn.errors import ConfigurationError
from mtdnn.types import EncoderOutput, Example

__all__ = ["SETTINGS_FILE", "WORDS", "LstmEncoder"]

logger = logging.getLogger(__name__)

Pooling = Literal["max", "mean", "attention", "first", "last"]

WORDS = "words"
"""The ``tokenizer`` value that selects spaCy words with a vocabulary built from the training data."""

SETTINGS_FILE = "lstm.json"

_LAYER = re.compile(r"^lstm\..*_l(\d+)(_reverse)?$")


class LstmEncoder(Encoder):
    """A multi-layer bidirectional LSTM over word embeddings, pooled by max, mean, attention, first or last.

    A pair is laid out as ``a <sep> b``, with token type 0 for ``a`` and the separator and 1 for
    ``b``; a learned segment embedding (zero at the start) is added to every word vector. Padding
    never reaches the states or the pooled vector: the LSTM runs on packed sequences and pooling
    skips padded positions, whose states are zero.

    Args:
        tokenizer: ``words``: spaCy's rule-based English tokenizer (``spacy.blank("en")``, from
            ``pip install 'mtdnn[lstm]'``) with a vocabulary built from the training texts of
            every task; or a Hugging Face tokenizer, a registered pretrained name
            (``all_minilm_l6_v2``) or a folder, whose ids are used (its own special tokens are
            not added; its separator token separates pairs).
        vocabulary: With ``words``: a ``vocab.json`` or a folder holding one (a run's
            ``model/encoder``) to use instead of building a vocabulary, e.g. to fine-tune a
            trained encoder with ``init_from``.
        lowercase: With ``words``: lower-case words before counting and looking them up.
        min_count: With ``words``: how often a word must occur in the training texts to get an
            id of its own (rarer words share ``<unk>``).
        max_vocab_size: With ``words``: keep at most this many of the most frequent words
            (besides ``<pad>``, ``<unk>``, ``<sep>`` and ``<mask>``).
        embeddings_from: A Hugging Face model (registered name or folder) whose input word
            embeddings initialise the table; the ``tokenizer`` must then be a Hugging Face
            tokenizer with the same ids (usually the same model).
        embedding_dim: Size of the word vectors: 300 by default, the model's size with
            ``embeddings_from`` (a value given then must equal it).
        freeze_embeddings: Keep the word embedding table fixed in training.
        hidden_size: LSTM state size per direction; token states and the pooled vector are
            twice as wide.
        num_layers: Number of stacked BiLSTM layers.
        dropout: Dropout on the embeddings and between LSTM layers.
        pooling: One vector per sequence: ``max`` (element-wise over the tokens), ``mean``,
            ``attention`` (a learned weighted mean), ``first`` (the first token's state; only
            its backward half has read the whole sequence) or ``last`` (each direction's final
            state: forward at the last token, backward at the first).
        corpus: Supplied at run time (never in a config): yields the tasks' training texts; it
            is read only to build a ``words`` vocabulary.
    """

    def __init__(
        self,
        *,
        tokenizer: PretrainedModel | str = WORDS,
        vocabulary: str | None = None,
        lowercase: bool = True,
        min_count: int = 1,
        max_vocab_size: int | None = None,
        embeddings_from: PretrainedModel | str | None = None,
        embedding_dim: int | None = None,
        freeze_embeddings: bool = False,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.1,
        pooling: Pooling = "max",
        corpus: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        super().__init__()
        sizes = {
            "min_count": min_count,
            "max_vocab_size": max_vocab_size,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
        }
        for key, size in sizes.items():
            if size is not None and size < 1:
                raise ConfigurationError(f"{key} must be at least 1, got {size}", path=f"encoder.{key}")
        check_probability(dropout, path="dropout")
        self.ids = _token_ids(
            tokenizer,
            vocabulary=vocabulary,
            lowercase=lowercase,
            min_count=min_count,
            max_vocab_size=max_vocab_size,
            corpus=corpus,
        )
        table = None if embeddings_from is None else _pretrained_table(embeddings_from, self.ids)
        if table is not None and embedding_dim is not None and embedding_dim != table.size(1):
            raise ConfigurationError(
                f"embedding_dim {embedding_dim} differs from the size of the embeddings_from vectors, "
                f"{table.size(1)}",
                path="embedding_dim",
                hint="leave embedding_dim out: it follows the model",
            )
        dim = table.size(1) if table is not None else embedding_dim or 300
        self.embeddings = nn.Embedding(len(self.ids), dim, padding_idx=self.ids.pad_id)
        if table is not None:
            with torch.no_grad():
                self.embeddings.weight.copy_(table)
        self.embeddings.weight.requires_grad_(not freeze_embeddings)
        self.segments = nn.Embedding(2, dim)
        nn.init.zeros_(self.segments.weight)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(
            dim,
            hidden_size,
            num_layers=num_layers,
            bidirectional=True,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.attention = nn.Linear(2 * hidden_size, 1) if pooling == "attention" else None
        self.pooling = pooling
        self.num_layers = num_layers
        self.lowercase = lowercase

    @property
    def output_dim(self) -> int:
        """Twice the LSTM's ``hidden_size`` (both directions)."""
        return 2 * self.lstm.hidden_size

    def featurize(self, examples: Sequence[Example], *, max_length: int) -> list[Features]:
        """Token ids, token types and mask of each example; pairs are truncated longest-first.

        A single text is cut to ``max_length`` ids; a pair to ``max_length`` with its separator.
        A text without tokens is one ``<unk>``, so that no sequence is empty.
        """
        firsts = self.ids.encode([example.text_a for example in examples], max_length=max_length)
        seconds = iter(
            self.ids.encode([ex.text_b for ex in examples if ex.text_b is not None], max_length=max_length)
        )
        features: list[Features] = []
        for example, first in zip(examples, firsts, strict=True):
            if example.text_b is None:
                ids = first or [self.ids.unk_id]
                types = [0] * len(ids)
            else:
                first, second = _truncate_pair(first, next(seconds), max(0, max_length - 1))
                ids = [*first, self.ids.sep_id, *second]
                types = [0] * (len(first) + 1) + [1] * len(second)
            features.append({"input_ids": ids, "token_type_ids": types, "attention_mask": [1] * len(ids)})
        return features

    def tokenize(self, texts: Sequence[str]) -> list[Pieces]:
        """The ids of each text (words or Hugging Face tokens) with their character spans."""
        return [
            Pieces(ids=tuple(ids), offsets=tuple(offsets)) for ids, offsets in self.ids.pieces(list(texts))
        ]

    def build_inputs(
        self, first: Sequence[int], second: Sequence[int] | None = None
    ) -> tuple[Features, int, int | None]:
        """``first`` (or ``first <sep> second``, token types 0 and 1), laid out as :meth:`featurize` does."""
        if second is None:
            ids = list(first)
            types = [0] * len(ids)
        else:
            ids = [*first, self.ids.sep_id, *second]
            types = [0] * (len(first) + 1) + [1] * len(second)
        features = {"input_ids": ids, "token_type_ids": types, "attention_mask": [1] * len(ids)}
        return features, 0, None if second is None else len(first) + 1

    @property
    def unknown_id(self) -> int:
        """The ``<unk>`` id (the tokenizer's unknown token with a Hugging Face tokenizer)."""
        return self.ids.unk_id

    def collate(self, features: Sequence[Features]) -> dict[str, torch.Tensor]:
        """Pad on the right: ``input_ids`` with the pad id, the other inputs with 0."""
        longest = max(len(feature["input_ids"]) for feature in features)
        batch: dict[str, torch.Tensor] = {}
        for key in features[0]:
            value = self.ids.pad_id if key == "input_ids" else 0
            rows = [feature[key] + [value] * (longest - len(feature[key])) for feature in features]
            batch[key] = torch.tensor(rows, dtype=torch.long)
        return batch

    def forward(self, inputs: dict[str, torch.Tensor]) -> EncoderOutput:
        """Embed, run the BiLSTM over the real tokens of each (right-padded) row, and pool."""
        ids, mask = inputs["input_ids"], inputs["attention_mask"]
        vectors = self.embeddings(ids)
        types = inputs.get("token_type_ids")
        if types is not None:
            vectors = vectors + self.segments(types)
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.dropout(vectors), lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        hidden, _ = pad_packed_sequence(states, batch_first=True, total_length=ids.size(1))
        return EncoderOutput(hidden=hidden, mask=mask, pooled=self._pool(hidden, mask.bool()))

    def _pool(self, hidden: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """One vector per row from the states of its real tokens."""
        if self.attention is not None:  # pooling 'attention'
            scores = self.attention(hidden).squeeze(-1).float().masked_fill(~real, float("-inf"))
            weights = torch.softmax(scores, dim=-1).to(hidden.dtype)
            return torch.einsum("bt,bth->bh", weights, hidden)
        if self.pooling == "max":
            return hidden.masked_fill(~real.unsqueeze(-1), float("-inf")).max(dim=1).values
        if self.pooling == "mean":
            weights = real.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        if self.pooling == "first":
            return hidden[:, 0]
        # 'last': the forward state at the last token, the backward one at the first
        half = hidden.size(-1) // 2
        last = (real.sum(dim=1) - 1).clamp(min=0)
        forward = hidden[torch.arange(hidden.size(0), device=hidden.device), last, :half]
        return torch.cat([forward, hidden[:, 0, half:]], dim=-1)

    def word_embeddings(self) -> nn.Module:
        """The word embedding table (segment embeddings are added after it)."""
        return self.embeddings

    def token_vocabulary(self) -> TokenVocabulary:
        """The mask id and special ids of the token ids, and the size of the word embedding table.

        Raises:
            ConfigurationError: A Hugging Face tokenizer without a mask token.
        """
        if self.ids.mask_id is None:
            raise ConfigurationError(
                "the encoder's tokenizer has no mask token, so it cannot train a masked-LM head",
                hint="use the 'words' tokenizer (it has <mask>) or a tokenizer with a mask token",
            )
        return TokenVocabulary(
            size=self.embeddings.num_embeddings, mask_id=self.ids.mask_id, special_ids=self.ids.special_ids
        )

    def parameter_depths(self) -> dict[str, int]:
        """LSTM layer ``i`` of ``L`` is at depth ``L - 1 - i``, the embeddings at ``L``, pooling at 0."""
        depths: dict[str, int] = {}
        for name, _ in self.named_parameters():
            match = _LAYER.match(name)
            if match is not None:
                depths[name] = self.num_layers - 1 - int(match.group(1))
            elif name.startswith(("embeddings.", "segments.")):
                depths[name] = self.num_layers
            else:
                depths[name] = 0
        return depths

    def save_pretrained(self, directory: Path) -> None:
        """Write the weights, the vocabulary (or tokenizer) and ``lstm.json`` (what rebuilds the table)."""
        super().save_pretrained(directory)
        self.ids.save(directory)
        settings = {
            "tokenizer": WORDS if isinstance(self.ids, WordIds) else "huggingface",
            "embedding_dim": self.embeddings.embedding_dim,
            "vocabulary_size": len(self.ids),
        }
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2) + "\n")

    def load_pretrained(self, directory: Path) -> None:
        """Load another saved LSTM encoder's weights, after checking that its token ids are the same.

        Raises:
            ConfigurationError: The folder holds no LSTM encoder, its vocabulary differs from this
                one's, or its weights do not fit.
        """
        saved = _saved_settings(directory)
        try:
            theirs: TokenIds = (
                WordIds.load(directory, lowercase=self.lowercase)
                if saved["tokenizer"] == WORDS
                else HuggingFaceIds(directory)
            )
        except ConfigurationError as exc:  # raised with a key relative to the encoder
            raise exc.under("encoder") from exc
        if type(theirs) is not type(self.ids) or theirs.vocabulary() != self.ids.vocabulary():
            raise ConfigurationError(
                f"the encoder in {str(directory)!r} has other token ids ({len(theirs)}) than this one "
                f"({len(self.ids)})",
                path="encoder",
                hint=f"set encoder.vocabulary (or encoder.tokenizer) to {str(directory)!r}",
            )
        super().load_pretrained(directory)

    @classmethod
    def archive_params(cls, params: dict[str, Any], directory: Path) -> dict[str, Any]:
        """Take the vocabulary (or tokenizer) and table size from the folder, not the training data."""
        saved = _saved_settings(directory)
        rebuilt = {key: value for key, value in params.items() if key != "embeddings_from"}
        rebuilt["embedding_dim"] = saved["embedding_dim"]
        rebuilt["vocabulary" if saved["tokenizer"] == WORDS else "tokenizer"] = str(directory)
        return rebuilt


def _token_ids(
    tokenizer: PretrainedModel | str,
    *,
    vocabulary: str | None,
    lowercase: bool,
    min_count: int,
    max_vocab_size: int | None,
    corpus: Callable[[], Iterable[str]] | None,
) -> TokenIds:
    """The ids the options select: a Hugging Face tokenizer, a saved vocabulary or one built from texts."""
    if isinstance(tokenizer, PretrainedModel) or tokenizer != WORDS:
        if vocabulary is not None:
            raise ConfigurationError(
                "vocabulary is for the 'words' tokenizer; a Hugging Face tokenizer has its own",
                path="vocabulary",
            )
        return HuggingFaceIds(
            tokenizer.locate() if isinstance(tokenizer, PretrainedModel) else Path(tokenizer)
        )
    if vocabulary is not None:
        return WordIds.load(Path(vocabulary), lowercase=lowercase)
    if corpus is None:
        raise ConfigurationError(
            "the 'words' tokenizer needs a vocabulary, and no training texts were given to build one",
            path="vocabulary",
            hint="build the encoder in an experiment (the tasks' training files then give the vocabulary), "
            "or set vocabulary to a vocab.json or a run's model/encoder folder",
        )
    return WordIds.from_texts(corpus(), lowercase=lowercase, min_count=min_count, max_size=max_vocab_size)


def _pretrained_table(source: PretrainedModel | str, ids: TokenIds) -> torch.Tensor:
    """The first ``len(ids)`` rows of a Hugging Face model's input word embeddings.

    Raises:
        ConfigurationError: ``ids`` are not the same model's token ids, or ``source`` is no model.
    """
    if not isinstance(ids, HuggingFaceIds):
        raise ConfigurationError(
            "embeddings_from needs a Hugging Face tokenizer: the ids of a vocabulary built from the "
            "training data are not the rows of a model's embedding table",
            path="embeddings_from",
            hint="set tokenizer to the same model, e.g. tokenizer: 'all_minilm_l6_v2'",
        )
    from transformers import AutoModel, AutoTokenizer

    folder = source.locate() if isinstance(source, PretrainedModel) else Path(source)
    if not (folder / "config.json").is_file():
        raise ConfigurationError(
            f"{str(folder)!r} is not a Hugging Face model folder (no config.json)",
            path="embeddings_from",
            hint="give a folder or a registered pretrained name (`mtdnn registry list --kind pretrained`)",
        )
    if folder.resolve() != ids.folder.resolve():
        try:
            own = AutoTokenizer.from_pretrained(str(folder), local_files_only=True).get_vocab()
        except (OSError, ValueError):
            own = None  # a model folder without a tokenizer: its ids cannot be checked
        if own is not None and own != ids.vocabulary():
            raise ConfigurationError(
                f"the tokenizer of {str(folder)!r} has other ids than the encoder's tokenizer",
                path="embeddings_from",
                hint="use the tokenizer of the model whose embeddings you take",
            )
    weight: torch.Tensor = (
        AutoModel.from_pretrained(str(folder), local_files_only=True).get_input_embeddings().weight
    )
    if weight.size(0) < len(ids):
        raise ConfigurationError(
            f"the tokenizer has {len(ids)} ids; the model in {str(folder)!r}: {weight.size(0)} embeddings",
            path="embeddings_from",
        )
    return weight.detach()[: len(ids)].clone()


def _truncate_pair(first: list[int], second: list[int], budget: int) -> tuple[list[int], list[int]]:
    """Shorten the longer text first until both fit in ``budget`` ids together."""
    if len(first) + len(second) <= budget:
        return first, second
    keep_second = min(len(second), max(budget - len(first), budget // 2))
    return first[: budget - keep_second], second[:keep_second]


def _saved_settings(directory: Path) -> dict[str, Any]:
    """The ``lstm.json`` that :meth:`LstmEncoder.save_pretrained` wrote.

    Raises:
        ConfigurationError: The folder holds none.
    """
    path = directory / SETTINGS_FILE
    if not path.is_file():
        raise ConfigurationError(
            f"{str(directory)!r} holds no saved LSTM encoder (no {SETTINGS_FILE})", path="encoder"
        )
    settings: dict[str, Any] = json.loads(path.read_text())
    return settings
