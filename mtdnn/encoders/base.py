"""The encoder interface shared by every text encoder."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mtdnn.errors import ConfigurationError
from mtdnn.types import EncoderOutput, Example

__all__ = ["ENCODER_WEIGHTS", "Encoder", "Features", "Pieces", "TokenVocabulary"]

Features = dict[str, list[int]]

ENCODER_WEIGHTS = "encoder.safetensors"


@dataclass(frozen=True)
class TokenVocabulary:
    """What a masked-LM head needs to know about an encoder's token ids.

    Args:
        size: Number of token ids (rows of the word-embedding table).
        mask_id: The id of the mask token.
        special_ids: Ids never masked or used as random replacements (padding, separators, ...).
    """

    size: int
    mask_id: int
    special_ids: frozenset[int]


@dataclass(frozen=True)
class Pieces:
    """The tokens of one text, without special tokens, and where each comes from in the text.

    Args:
        ids: Token ids, in text order.
        offsets: The character span ``(start, end)`` of each token in the text.
    """

    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]


class Encoder(nn.Module):
    """Turns text into token states and one pooled vector per sequence.

    An encoder owns its featurization: :meth:`featurize` tokenizes examples and
    :meth:`collate` pads a list of features into tensors, so tokenization always matches
    the model.
    """

    @property
    def output_dim(self) -> int:
        """Size of the pooled vector and of each token state."""
        raise NotImplementedError

    def featurize(self, examples: Sequence[Example], *, max_length: int) -> list[Features]:
        """Tokenize examples (pairs where ``text_b`` is set), truncated to ``max_length``."""
        raise NotImplementedError

    def collate(self, features: Sequence[Features]) -> dict[str, torch.Tensor]:
        """Pad features to the longest one and stack them into ``[B, T]`` tensors."""
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str]) -> list[Pieces]:
        """The tokens of each text with their character spans: no special tokens, no truncation.

        Token-level tasks (sequence labelling, extractive QA) build their inputs from these with
        :meth:`build_inputs`, so they can cut long texts into windows and map tokens back to
        words and characters.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot tokenize with character offsets")

    def build_inputs(
        self, first: Sequence[int], second: Sequence[int] | None = None
    ) -> tuple[Features, int, int | None]:
        """Features of one sequence (or pair) of token ids, laid out as :meth:`featurize` lays out text.

        Special tokens and token types are added exactly as for a text (or pair) of those tokens.

        Returns:
            The features, and the input positions of ``first[0]`` and ``second[0]`` (``None``
            without a second sequence); the tokens of each sequence stay contiguous.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot build inputs from token ids")

    def special_tokens(self, *, pair: bool) -> int:
        """How many special tokens :meth:`build_inputs` adds to one sequence or to a pair."""
        features, _, _ = self.build_inputs([], [] if pair else None)
        return len(features["input_ids"])

    @property
    def max_positions(self) -> int | None:
        """The longest input, special tokens included, the model can encode; ``None`` for no limit.

        A task whose ``max_length`` exceeds it is refused when the task is built.
        """
        return None

    @property
    def unknown_id(self) -> int:
        """The id that stands for a word the tokenizer turns into no token at all."""
        raise NotImplementedError(f"{type(self).__name__} has no unknown-token id")

    def forward(self, inputs: dict[str, torch.Tensor]) -> EncoderOutput:
        """Encode a padded batch."""
        raise NotImplementedError

    def word_embeddings(self) -> nn.Module:
        """The module that maps ``inputs["input_ids"]`` to word vectors ``[B, T, E]``.

        Position and segment embeddings, normalisation and dropout come after it, inside
        :meth:`forward`. :meth:`embed` and :meth:`forward_embedded` are built on it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not expose its word embeddings")

    def token_vocabulary(self) -> TokenVocabulary:
        """The encoder's token ids, for masked-LM heads.

        Raises:
            ConfigurationError: The encoder has no mask token (the default).
        """
        raise ConfigurationError(
            f"the {type(self).__name__} encoder has no mask token, so it cannot train a masked-LM head"
        )

    def pooled_only(self) -> AbstractContextManager[None]:
        """A block within which the caller reads only ``pooled`` of what :meth:`forward` returns.

        An encoder may then skip work that only the other token states need (the Hugging Face
        encoder computes its last layer for the first token only); ``hidden`` may then hold
        fewer positions than the batch. The default changes nothing.
        """
        return nullcontext()

    def embed(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The word embeddings of a batch, ``[B, T, E]``: the input of an adversarial perturbation."""
        embeddings: torch.Tensor = self.word_embeddings()(inputs["input_ids"])
        return embeddings

    def forward_embedded(self, inputs: dict[str, torch.Tensor], embeddings: torch.Tensor) -> EncoderOutput:
        """Encode a batch with ``embeddings`` in place of its word embeddings.

        Everything after the word-embedding lookup runs as in :meth:`forward` (position and
        segment embeddings are added once, by the model's own code), so
        ``forward_embedded(inputs, embed(inputs))`` is exactly ``forward(inputs)``. Adversarial
        training passes ``embed(inputs) + delta`` and back-propagates to ``delta``.

        Args:
            inputs: The padded batch, as for :meth:`forward`.
            embeddings: ``[B, T, E]`` vectors, e.g. a perturbation of :meth:`embed`'s output.

        Raises:
            ValueError: ``embeddings`` does not have the shape of the batch's word embeddings.
        """
        module = self.word_embeddings()

        def replace(_module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
            if output.shape != embeddings.shape:
                raise ValueError(
                    f"embeddings of shape {tuple(embeddings.shape)} do not fit the batch's word embeddings "
                    f"of shape {tuple(output.shape)}"
                )
            return embeddings.to(output.dtype)

        handle = module.register_forward_hook(replace)
        try:
            output: EncoderOutput = self(inputs)
        finally:
            handle.remove()
        return output

    def parameter_depths(self) -> dict[str, int]:
        """Depth of each parameter counted from the top (0 = the top layer), for layer-wise decay.

        The default puts every parameter at depth 0 (no decay).
        """
        return dict.fromkeys((name for name, _ in self.named_parameters()), 0)

    def save_pretrained(self, directory: Path) -> None:
        """Write the encoder (weights and tokenizer) to ``directory`` for deployment or reuse."""
        from safetensors.torch import save_file

        directory.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(directory / ENCODER_WEIGHTS))

    def load_pretrained(self, directory: Path) -> None:
        """Load weights that :meth:`save_pretrained` wrote into this (already built) encoder.

        Raises:
            ConfigurationError: The folder holds no weights of this encoder or they do not fit.
        """
        from safetensors.torch import load_file

        path = directory / ENCODER_WEIGHTS
        if not path.is_file():
            raise ConfigurationError(f"no encoder weights in {str(directory)!r} (expected {ENCODER_WEIGHTS})")
        try:
            self.load_state_dict(load_file(str(path)))
        except RuntimeError as exc:
            raise ConfigurationError(
                f"the encoder in {str(directory)!r} does not fit this one: {exc}"
            ) from exc

    def export_tokenizer(self, directory: Path) -> dict[str, Any]:
        """Write what the torch-free runtime of an export needs to tokenize, and describe it.

        Returns:
            The ``tokenization`` entry of an export's ``export.json`` (see
            :mod:`mtdnn.export.manifest`), with ``layouts`` as :class:`~mtdnn.portable.layout.Layout`.

        Raises:
            ConfigurationError: The encoder cannot be exported (the default).
        """
        raise ConfigurationError(
            f"the {type(self).__name__} encoder cannot be exported: the runtime of an export "
            "tokenizes with a Hugging Face fast tokenizer (the 'hf' encoder)"
        )

    @classmethod
    def archive_params(cls, params: dict[str, Any], directory: Path) -> dict[str, Any]:
        """Return config params that rebuild this encoder from what :meth:`save_pretrained` wrote.

        The default keeps the params; the weights are then loaded by the archive loader.
        """
        return params
