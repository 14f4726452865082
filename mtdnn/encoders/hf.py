"""Any Hugging Face encoder (BERT, RoBERTa, ...) loaded offline from a folder."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Literal

import torch

from mtdnn.encoders.base import Encoder, Features, Pieces, TokenVocabulary
from mtdnn.encoders.first_token import first_token_only
from mtdnn.encoders.pretrained import PretrainedModel
from mtdnn.errors import ConfigurationError
from mtdnn.portable.layout import Layout, read_layout
from mtdnn.types import EncoderOutput, Example

__all__ = ["HuggingFaceEncoder"]

logger = logging.getLogger(__name__)

Pooling = Literal["cls", "mean", "pooler", "auto"]

_LAYER = re.compile(r"\.layers?\.(\d+)\.")


class HuggingFaceEncoder(Encoder):
    """A pretrained Transformer encoder from a Hugging Face model folder, loaded without network.

    Pairs are encoded the way the model's own tokenizer does it (``[CLS] a [SEP] b [SEP]`` for
    BERT, DistilBERT, ELECTRA and DeBERTa-v2, ``<s> a </s></s> b </s>`` for RoBERTa);
    ``token_type_ids`` are passed only to models whose tokenizer produces them, and padding uses
    the tokenizer's pad id and side.

    Args:
        model: A registered pretrained name (``all_minilm_l6_v2``) or the path of a folder with
            ``config.json``, the weights and the tokenizer files.
        pooling: How one vector per sequence is made: ``cls`` (the first token's state), ``mean``
            (mean of the real tokens), ``pooler`` (the model's pooler, an error where it has
            none) or ``auto`` (the pooler where the model has one, else the first token).
        num_layers: Keep only the first ``num_layers`` Transformer layers (with their pretrained
            weights), e.g. to build a small student; ``None`` keeps all.
        freeze: Train none of the encoder's parameters (only the heads learn).
        freeze_layers: Freeze the embeddings and the lowest ``freeze_layers`` Transformer layers;
            0 freezes nothing.
        gradient_checkpointing: Recompute layer activations in the backward pass instead of
            storing them: less memory, about a third more compute; results are unchanged.
        random_init: Build the model from the folder's ``config.json`` with random weights (for
            masked-LM pre-training from scratch); the tokenizer still comes from the folder.
        pad_to_multiple_of: Pad each batch to a multiple of this many tokens (capped at the
            model's position limit), not just to its longest row: fewer distinct batch shapes,
            which GPUs' matrix units like and which keep the CPU allocator's heap from
            fragmenting (less peak memory, see docs/performance.md); 1 pads to the longest row.
        trim_last_layer: When the batch's head reads only the pooled vector (classification,
            regression, ranking, multi-label) and ``pooling`` is ``cls`` or ``pooler``, compute
            the last layer for the first token only: the same outputs and gradients for less
            work (see docs/performance.md). Models laid out as BERT or MPNet (BERT, RoBERTa,
            ELECTRA, MiniLM, all-mpnet-base-v2); others run whole. Dropout draws fewer random
            numbers, so a training run differs from one with ``false`` as two seeds do.
    """

    def __init__(
        self,
        model: PretrainedModel | str,
        *,
        pooling: Pooling = "cls",
        num_layers: int | None = None,
        freeze: bool = False,
        freeze_layers: int = 0,
        gradient_checkpointing: bool = False,
        random_init: bool = False,
        pad_to_multiple_of: int = 1,
        trim_last_layer: bool = True,
    ) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        folder = model.locate() if isinstance(model, PretrainedModel) else Path(model)
        if not (folder / "config.json").is_file():
            raise ConfigurationError(
                f"{str(folder)!r} is not a Hugging Face model folder (no config.json)",
                path="model",
                hint="give a folder written by save_pretrained, or a registered pretrained name "
                "(see `mtdnn registry list --kind pretrained`)",
            )
        self.folder = folder
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        available = _layer_count(config)
        if num_layers is not None:
            if not 1 <= num_layers <= available:
                raise ConfigurationError(
                    f"num_layers must be between 1 and the model's {available} layers, got {num_layers}",
                    path="num_layers",
                )
            config.num_hidden_layers = num_layers  # DistilBERT maps this name to n_layers
        if random_init:
            self.model = AutoModel.from_config(config)  # type: ignore[no-untyped-call]
        else:
            self.model = AutoModel.from_pretrained(str(folder), config=config, local_files_only=True)
        self.num_layers = _layer_count(self.model.config)
        has_pooler = getattr(self.model, "pooler", None) is not None
        if pooling == "pooler" and not has_pooler:
            raise ConfigurationError(
                f"the model in {str(folder)!r} has no pooler",
                path="pooling",
                hint="use pooling 'cls', 'mean' or 'auto'",
            )
        self.pooling: Pooling = ("pooler" if has_pooler else "cls") if pooling == "auto" else pooling
        self.input_names = tuple(self.tokenizer.model_input_names)
        if pad_to_multiple_of < 1:
            raise ConfigurationError(
                f"pad_to_multiple_of must be at least 1, got {pad_to_multiple_of}", path="pad_to_multiple_of"
            )
        self.pad_to_multiple_of = pad_to_multiple_of
        self.trim_last_layer = trim_last_layer
        self._pooled_only = False
        self._templates: dict[bool, Layout] = {}
        if self.tokenizer.pad_token_id is None:
            raise ConfigurationError(f"the tokenizer in {str(folder)!r} has no pad token", path="model")
        if not 0 <= freeze_layers <= self.num_layers:
            raise ConfigurationError(
                f"freeze_layers must be between 0 and the model's {self.num_layers} layers, "
                f"got {freeze_layers}",
                path="freeze_layers",
            )
        for name, parameter in self.named_parameters():
            if freeze or _below(name, freeze_layers):
                parameter.requires_grad_(False)
        if gradient_checkpointing:
            if not self.model.supports_gradient_checkpointing:
                raise ConfigurationError(
                    f"{type(self.model).__name__} does not support gradient checkpointing",
                    path="gradient_checkpointing",
                )
            # transformers 5 renamed gradient_checkpointing_enable to activation_checkpointing_enable
            enable = getattr(self.model, "activation_checkpointing_enable", None)
            if enable is not None:
                enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                self.model.gradient_checkpointing_enable(
                    gradient_checkpointing_kwargs={"use_reentrant": False}
                )

    @property
    def output_dim(self) -> int:
        """The model's hidden size."""
        return int(self.model.config.hidden_size)

    def featurize(self, examples: Sequence[Example], *, max_length: int) -> list[Features]:
        """Tokenize with the model's tokenizer; pairs are truncated longest-first.

        Single texts and pairs may be mixed; each group is tokenized in one call.
        """
        features: list[Features] = [{} for _ in examples]
        for paired in (False, True):
            group = [i for i, example in enumerate(examples) if (example.text_b is not None) == paired]
            if not group:
                continue
            first = [examples[i].text_a for i in group]
            second = [examples[i].text_b or "" for i in group] if paired else None
            encoded = self.tokenizer(first, second, truncation=True, max_length=max_length)
            keys = [name for name in self.input_names if name in encoded]
            for row, index in enumerate(group):
                features[index] = {key: list(encoded[key][row]) for key in keys}
        return features

    def tokenize(self, texts: Sequence[str]) -> list[Pieces]:
        """The tokenizer's ids and character offsets of each text, without special tokens.

        Raises:
            ConfigurationError: The tokenizer cannot report offsets (it is not a fast tokenizer).
        """
        if not texts:
            return []
        try:
            encoded = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        except NotImplementedError as exc:
            raise ConfigurationError(
                f"the tokenizer in {str(self.folder)!r} cannot map tokens to characters: {exc}",
                path="encoder.model",
            ) from exc
        return [
            Pieces(ids=tuple(ids), offsets=tuple((int(a), int(b)) for a, b in offsets))
            for ids, offsets in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
        ]

    def build_inputs(
        self, first: Sequence[int], second: Sequence[int] | None = None
    ) -> tuple[Features, int, int | None]:
        """Put the model's special tokens and token types around token ids, as its tokenizer does.

        The layout is read once from the tokenizer's own encoding of a one-word text (or pair).
        """
        features, first_start, second_start = self._template(pair=second is not None).build(first, second)
        features = {key: features[key] for key in self.input_names if key in features}
        return features, first_start, second_start

    def _template(self, *, pair: bool) -> Layout:
        cached = self._templates.get(pair)
        if cached is None:
            cached = self._templates[pair] = _read_template(self.tokenizer, pair=pair)
        return cached

    @property
    def unknown_id(self) -> int:
        """The tokenizer's unknown token (its separator where it has none)."""
        unk = self.tokenizer.unk_token_id
        return int(unk if unk is not None else self.tokenizer.sep_token_id or self.tokenizer.eos_token_id)

    @property
    def max_positions(self) -> int | None:
        """The model's absolute position limit: ``max_position_embeddings``, less RoBERTa's offset.

        RoBERTa-style embeddings count positions from ``padding_idx + 1``; a model without
        absolute positions (DeBERTa with ``position_biased_input`` off) has no limit.
        """
        config = self.model.config
        limit = getattr(config, "max_position_embeddings", None)
        if limit is None or not getattr(config, "position_biased_input", True):
            return None
        offset = getattr(getattr(self.model, "embeddings", None), "padding_idx", None)
        return int(limit) - (int(offset) + 1 if offset is not None else 0)

    def collate(self, features: Sequence[Features]) -> dict[str, torch.Tensor]:
        """Pad to the longest sequence (or the next multiple of ``pad_to_multiple_of``) with the pad id.

        Padding goes on the tokenizer's padding side.
        """
        longest = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of > 1:
            rounded = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
            limit = self.max_positions
            longest = max(longest, rounded if limit is None else min(rounded, limit))
        pad_values = {"input_ids": int(self.tokenizer.pad_token_id)}
        left = self.tokenizer.padding_side == "left"
        batch: dict[str, torch.Tensor] = {}
        for key in features[0]:
            rows = []
            for feature in features:
                values = feature[key]
                padding = [pad_values.get(key, 0)] * (longest - len(values))
                rows.append(padding + values if left else values + padding)
            batch[key] = torch.tensor(rows, dtype=torch.long)
        return batch

    @contextmanager
    def pooled_only(self) -> Iterator[None]:
        """Within the block, the last layer runs for the first token only (see ``trim_last_layer``).

        ``hidden`` then holds that one position per sequence.
        """
        before, self._pooled_only = self._pooled_only, True
        try:
            yield
        finally:
            self._pooled_only = before

    def forward(self, inputs: dict[str, torch.Tensor]) -> EncoderOutput:
        """Run the Transformer and pool."""
        trim = (
            self._pooled_only
            and self.trim_last_layer
            and self.pooling in ("cls", "pooler")
            and self.tokenizer.padding_side == "right"
        )
        named = {key: value for key, value in inputs.items() if key in self.input_names}
        with first_token_only(self.model) if trim else nullcontext():
            outputs = self.model(**named, return_dict=True)
        hidden = outputs.last_hidden_state
        mask = inputs["attention_mask"]
        if self.pooling == "pooler":
            pooled = outputs.pooler_output
        elif self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        else:
            first = 0 if self.tokenizer.padding_side == "right" else -1
            pooled = hidden[:, first] if first == 0 else _first_real_token(hidden, mask)
        return EncoderOutput(hidden=hidden, mask=mask, pooled=pooled)

    def token_vocabulary(self) -> TokenVocabulary:
        """The tokenizer's mask id and special ids; the size of the model's embedding table.

        Raises:
            ConfigurationError: The tokenizer has no mask token.
        """
        mask_id = self.tokenizer.mask_token_id
        if mask_id is None:
            raise ConfigurationError(
                f"the tokenizer in {str(self.folder)!r} has no mask token, "
                "so it cannot train a masked-LM head"
            )
        size = int(self.model.get_input_embeddings().num_embeddings)
        return TokenVocabulary(
            size=size, mask_id=int(mask_id), special_ids=frozenset(self.tokenizer.all_special_ids)
        )

    def word_embeddings(self) -> torch.nn.Module:
        """The model's input (word) embedding table."""
        module: torch.nn.Module = self.model.get_input_embeddings()
        return module

    def parameter_depths(self) -> dict[str, int]:
        """Transformer layer ``i`` of ``L`` is at depth ``L - 1 - i``; embeddings at ``L``; the rest at 0.

        Layers are recognised by the ``layer.N.`` (BERT, RoBERTa, DistilBERT, ELECTRA, DeBERTa)
        or ``layers.N.`` part of a parameter's name.
        """
        layers = self.num_layers
        depths: dict[str, int] = {}
        for name, _ in self.named_parameters():
            match = _LAYER.search(name)
            if match is not None:
                depths[name] = max(0, layers - 1 - int(match.group(1)))
            elif "embeddings" in name:
                depths[name] = layers
            else:
                depths[name] = 0
        return depths

    def save_pretrained(self, directory: Path) -> None:
        """Write the model and tokenizer in Hugging Face form (loadable by ``AutoModel``)."""
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(directory))
        self.tokenizer.save_pretrained(str(directory))

    def load_pretrained(self, directory: Path) -> None:
        """Load the weights of a Hugging Face folder (e.g. another run's ``model/encoder``).

        Raises:
            ConfigurationError: The folder is not a model folder, or its architecture differs.
        """
        from transformers import AutoModel

        if not (directory / "config.json").is_file():
            raise ConfigurationError(
                f"{str(directory)!r} is not a Hugging Face model folder (no config.json)"
            )
        source = AutoModel.from_pretrained(str(directory), local_files_only=True)
        try:
            self.model.load_state_dict(source.state_dict())
        except RuntimeError as exc:
            raise ConfigurationError(
                f"the encoder in {str(directory)!r} does not fit this one: {exc}"
            ) from exc

    def export_tokenizer(self, directory: Path) -> dict[str, Any]:
        """Write ``tokenizer.json`` (the fast tokenizer, read by the ``tokenizers`` library) and describe it.

        Raises:
            ConfigurationError: The tokenizer is not a fast one.
        """
        if not getattr(self.tokenizer, "is_fast", False):
            raise ConfigurationError(
                f"the tokenizer in {str(self.folder)!r} is not a fast tokenizer, so an export cannot "
                "tokenize without transformers",
                path="encoder.model",
            )
        directory.mkdir(parents=True, exist_ok=True)
        self.tokenizer.backend_tokenizer.save(str(directory / "tokenizer.json"))
        return {
            "file": "tokenizer.json",
            "pad_id": int(self.tokenizer.pad_token_id),
            "padding_side": str(self.tokenizer.padding_side),
            "truncation_side": str(getattr(self.tokenizer, "truncation_side", "right")),
            "unknown_id": self.unknown_id,
            "has_types": "token_type_ids" in self.input_names,
            "layouts": {pair: self._template(pair=pair) for pair in (False, True)},
        }

    @classmethod
    def archive_params(cls, params: dict[str, Any], directory: Path) -> dict[str, Any]:
        """Point ``model`` at the saved folder (whose weights are the trained ones)."""
        return {**params, "model": str(directory), "random_init": False}


def _read_template(tokenizer: Any, *, pair: bool) -> Layout:
    """Find where a tokenizer puts its special tokens, from its encoding of ``"a"`` (and ``"b"``)."""
    encoded = tokenizer("a", "b") if pair else tokenizer("a")
    ids = list(encoded["input_ids"])
    types = encoded.get("token_type_ids")
    layout = read_layout(ids, None if types is None else list(types), encoded.sequence_ids(), pair=pair)
    if layout is None:
        raise ConfigurationError(f"cannot read the special-token layout of {type(tokenizer).__name__}")
    return layout


def _below(name: str, layers: int) -> bool:
    """Whether parameter ``name`` is an embedding or belongs to one of the lowest ``layers`` layers."""
    if layers == 0:
        return False
    match = _LAYER.search(name)
    return int(match.group(1)) < layers if match is not None else "embeddings" in name


def _layer_count(config: Any) -> int:
    """The number of Transformer layers a Hugging Face config describes."""
    return int(getattr(config, "num_hidden_layers", 0) or getattr(config, "n_layers", 0))


def _first_real_token(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The state of the first non-padding token of each row (for left-padded tokenizers)."""
    index = mask.long().argmax(dim=1)
    return hidden[torch.arange(hidden.size(0), device=hidden.device), index]
