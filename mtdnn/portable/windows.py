"""Overlapping windows of whole words, and which window predicts each word."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["assign_tokens", "best_windows", "cut_windows"]


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
