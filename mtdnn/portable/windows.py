"""Overlapping windows of whole words, and which window predicts each word."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["WordWindow", "assign_tokens", "best_windows", "cut_windows", "word_windows"]


def assign_tokens(
    words: Sequence[str], text: str, ids: Sequence[int], offsets: Sequence[tuple[int, int]], unknown_id: int
) -> list[list[int]]:
    """The token ids of each word of ``text``, the words joined by single spaces (at least one per word).

    Tokens are assigned to the word whose characters they overlap; a token that covers only the
    space between words (SentencePiece's lone word-start marker) goes with the next word. A word
    the tokenizer turns into nothing (e.g. a lone control character) gets ``unknown_id``, so that
    it still has a position to be labelled from.

    Args:
        words: The words.
        text: ``" ".join(words)``.
        ids: The tokens of ``text`` without special tokens.
        offsets: The character span of each token in ``text``.
        unknown_id: The id given to a word without tokens.
    """
    bounds: list[tuple[int, int]] = []
    position = 0
    for text_word in words:
        bounds.append((position, position + len(text_word)))
        position += len(text_word) + 1
    pieces: list[list[int]] = [[] for _ in words]
    waiting: list[int] = []  # tokens over whitespace, for the next word
    word = 0
    for token, (start, end) in zip(ids, offsets, strict=True):
        if not text[start:end].strip():
            waiting.append(token)
            continue
        while word < len(words) - 1 and start >= bounds[word][1]:
            word += 1
        pieces[word] += [*waiting, token]
        waiting = []
    if waiting and words:
        pieces[-1] += waiting
    return [tokens or [unknown_id] for tokens in pieces]


def cut_windows(lengths: Sequence[int], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Cut a sentence into windows of whole words: ``(first word, one past the last)``.

    Args:
        lengths: Sub-word count of each word (each at most ``budget``).
        budget: Most sub-words in one window.
        overlap: Most sub-words that consecutive windows share (whole words); every window
            after the first starts at least one word after the previous one.

    Raises:
        ValueError: A word is longer than ``budget``, or ``budget`` is below 1.
    """
    if budget < 1:
        raise ValueError(f"a window needs room for at least one sub-word, got {budget}")
    if any(length > budget for length in lengths):
        raise ValueError(f"a word has more than {budget} sub-words")
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end, total = start, 0
        while end < len(lengths) and total + lengths[end] <= budget:
            total += lengths[end]
            end += 1
        windows.append((start, end))
        if end >= len(lengths):
            return windows
        following, shared = end, 0
        while following - 1 > start and shared + lengths[following - 1] <= overlap:
            following -= 1
            shared += lengths[following]
        start = following


def best_windows(lengths: Sequence[int], windows: Sequence[tuple[int, int]]) -> list[int]:
    """For each word, the window that predicts it: the one where it has the most context.

    A word's context in a window is the smaller of the sub-words before it and after it there;
    ties go to the earlier window.
    """
    best = [-1] * len(lengths)
    score = [-1] * len(lengths)
    for index, (start, end) in enumerate(windows):
        before = 0
        total = sum(lengths[start:end])
        for word in range(start, end):
            context = min(before, total - before - lengths[word])
            if context > score[word]:
                best[word], score[word] = index, context
            before += lengths[word]
    return best


@dataclass(frozen=True)
class WordWindow:
    """One window of a sentence: its words' tokens, and which of its words it predicts.

    Args:
        first: The index of its first word in the sentence.
        ids: The tokens of its words, in order (no special tokens).
        lengths: The token count of each of its words.
        owned: For each of its words, whether this window predicts it (see :func:`best_windows`).
    """

    first: int
    ids: list[int]
    lengths: list[int]
    owned: list[int]

    def starts(self, offset: int) -> list[int]:
        """The input position of each word's first token, the window's tokens starting at ``offset``."""
        return list(itertools.accumulate(self.lengths[:-1], initial=offset))


def word_windows(
    pieces: Sequence[Sequence[int]], *, max_length: int, specials: int, overlap: int | None
) -> list[WordWindow]:
    """Cut a sentence (the tokens of each word) into the windows a sequence-labelling row holds.

    A word keeps at most as many tokens as fit in one window.

    Args:
        pieces: The tokens of each word (:func:`assign_tokens`).
        max_length: The longest row, special tokens included.
        specials: The special tokens of a row.
        overlap: Most tokens consecutive windows share; ``None``: a quarter of ``max_length``.
    """
    budget = max_length - specials
    shared = max_length // 4 if overlap is None else overlap
    pieces = [list(tokens[:budget]) for tokens in pieces]
    lengths = [len(tokens) for tokens in pieces]
    windows = cut_windows(lengths, budget, min(shared, budget - 1))
    chosen = best_windows(lengths, windows)
    return [
        WordWindow(
            first=start,
            ids=[token for tokens in pieces[start:end] for token in tokens],
            lengths=lengths[start:end],
            owned=[int(chosen[word] == number) for word in range(start, end)],
        )
        for number, (start, end) in enumerate(windows)
    ]
