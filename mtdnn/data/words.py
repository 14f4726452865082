"""Sequence-labelling rows: words to sub-words, overlapping windows, and one prediction per word.

A sentence of words is tokenized as the words joined by single spaces, so every tokenizer sees
ordinary text; each token is given to the word its characters overlap. Only a word's first
sub-word carries the word's label (the others are not scored; no pseudo-labels). A sentence
longer than the encoder's limit is cut into overlapping windows of whole words; each word is then
predicted by the window in which it has the most context on both sides, so every word gets
exactly one prediction and nothing is truncated away.
"""

from __future__ import annotations

from collections.abc import Sequence

from mtdnn.encoders.base import Encoder
from mtdnn.portable.windows import assign_tokens, best_windows, cut_windows

__all__ = ["best_windows", "cut_windows", "word_pieces"]


def word_pieces(encoder: Encoder, sentences: Sequence[Sequence[str]]) -> list[list[list[int]]]:
    """The token ids of every word of every sentence (at least one per word; see :func:`assign_tokens`).

    A word the tokenizer turns into nothing gets the encoder's unknown-token id.
    """
    texts = [" ".join(words) for words in sentences]
    return [
        assign_tokens(words, text, pieces.ids, pieces.offsets, encoder.unknown_id)
        for words, text, pieces in zip(sentences, texts, encoder.tokenize(texts), strict=True)
    ]
