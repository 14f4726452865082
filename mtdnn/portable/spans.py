"""Extractive QA without PyTorch: context windows, the best spans of a window, and the answer.

The span head (:class:`mtdnn.heads.span.SpanHead`) and the torch-free runtime of an export both
decode with these functions, so an export answers exactly as the run directory does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mtdnn.portable.windows import best_windows
from mtdnn.types import SpanPrediction

__all__ = [
    "NULL_POSITION",
    "SpanWindow",
    "best_answer",
    "context_windows",
    "decode_answers",
    "row_spans",
    "span_record",
    "span_windows",
]

NULL_POSITION = 0
"""The input position that stands for "no answer here" (BERT's ``[CLS]``, RoBERTa's ``<s>``)."""

Build = Callable[[Sequence[int], Sequence[int]], tuple[dict[str, list[int]], int, int | None]]
"""Lays out a question's and a context window's token ids with the special tokens: the features
and the input positions of each part's first token (``Encoder.build_inputs``, ``Layout.build``)."""

Span = tuple[float, int, int]
"""A candidate answer: its score (start + end logit), first character and one past its last."""


@dataclass(frozen=True)
class SpanWindow:
    """One row of a question: the question and a window of its context.

    Args:
        first: The window's first context token.
        last: One past its last context token.
        features: The row's encoder inputs.
        offset: The input position of context token ``first``.
        char_start: Per input position, the first character in the context of its token (-1
            outside the context).
        char_end: Per input position, one past the last character of its token (-1 outside).
        owned: Per input position, 1 where this window is the one in which that context token
            has the most context.
    """

    first: int
    last: int
    features: dict[str, list[int]]
    offset: int
    char_start: list[int]
    char_end: list[int]
    owned: list[int]


def context_windows(length: int, budget: int, stride: int) -> list[tuple[int, int]]:
    """Cut ``length`` context tokens into windows ``(first, one past the last)`` that cover them all.

    Every window holds ``budget`` tokens but the last, which ends at the end of the context;
    each window starts ``budget - stride`` tokens after the one before, so consecutive windows
    share ``stride`` tokens. An empty context gives one empty window.

    Raises:
        ValueError: ``stride`` is negative or not below ``budget``.
    """
    if not 0 <= stride < budget:
        raise ValueError(f"the stride must be in [0, {budget}) for windows of {budget} tokens, got {stride}")
    windows: list[tuple[int, int]] = []
    first = 0
    while True:
        last = min(first + budget, length)
        windows.append((first, last))
        if last >= length:
            return windows
        first = last - stride


def span_windows(
    question: Sequence[int],
    context: Sequence[int],
    offsets: Sequence[tuple[int, int]],
    *,
    max_length: int,
    stride: int,
    build: Build,
) -> list[SpanWindow]:
    """The rows of one question: the (cut) question with each window of the context.

    Each row holds at most ``max_length`` tokens: the question, the special tokens and as many
    context tokens as fit beside them (a shorter question leaves room for more context).

    Args:
        question: The question's token ids, already cut to the longest question.
        context: The context's token ids.
        offsets: The character span of each context token.
        max_length: Longest row, in tokens.
        stride: Context tokens shared by consecutive windows.
        build: Lays out a question and a window (see :data:`Build`).

    Raises:
        ValueError: ``build`` gave no position to the context, or ``stride`` leaves windows no
            room to advance.
    """
    budget = max_length - len(build([], [])[0]["input_ids"]) - len(question)
    windows = context_windows(len(context), budget, stride)
    best = best_windows([1] * len(context), windows)
    rows = []
    for window, (first, last) in enumerate(windows):
        features, _, offset = build(question, context[first:last])
        if offset is None:
            raise ValueError("the encoder's layout gave no position to a pair's second text")
        size = len(features["input_ids"])
        char_start, char_end, owned = [-1] * size, [-1] * size, [0] * size
        for token in range(first, last):
            position = offset + token - first
            char_start[position], char_end[position] = offsets[token]
            owned[position] = int(best[token] == window)
        rows.append(SpanWindow(first, last, features, offset, char_start, char_end, owned))
    return rows


def row_spans(
    scores: np.ndarray,
    char_start: Sequence[int],
    char_end: Sequence[int],
    owned: Sequence[int],
    *,
    max_answer_length: int,
    n_best: int,
) -> tuple[float, list[Span]]:
    """The null score of one row and its ``n_best`` best spans, exactly (by start + end logit).

    A span lies in the context, ends at or after its start, has at most ``max_answer_length``
    tokens and starts at a token this window owns.

    Args:
        scores: The row's start and end logits ``[T, 2]`` (float32), one per input position.
        char_start: See :class:`SpanWindow`.
        char_end: See :class:`SpanWindow`.
        owned: See :class:`SpanWindow`.
        max_answer_length: The longest answer, in tokens.
        n_best: How many spans to keep.

    Raises:
        ValueError: The scores and the positions differ in number.
    """
    scores = np.asarray(scores, dtype=np.float32)
    if len(char_start) != len(scores):
        raise ValueError(f"a row has {len(scores)} scores for {len(char_start)} input positions")
    starts, ends = scores[:, 0], scores[:, 1]
    null = float(starts[NULL_POSITION] + ends[NULL_POSITION])
    positions = [position for position, char in enumerate(char_start) if char >= 0]
    if not positions:
        return null, []
    first, last = positions[0], positions[-1] + 1  # the context is contiguous
    width = max_answer_length
    start_scores = np.where(np.asarray(owned[first:last], dtype=bool), starts[first:last], -np.inf)
    end_scores = np.concatenate([ends[first:last], np.full(width - 1, -np.inf, dtype=np.float32)])
    # pairs[i, d]: the span from context token i to context token i + d
    pairs = start_scores[:, None] + np.lib.stride_tricks.sliding_window_view(end_scores, width)
    flat = pairs.reshape(-1)
    order = _top(flat, n_best)
    spans: list[Span] = []
    for index in order.tolist():
        value = float(flat[index])
        if value == -math.inf:
            break
        token, length = divmod(index, width)
        spans.append((value, char_start[first + token], char_end[first + token + length]))
    return null, spans


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values, largest first; ties in index order (exactly, in O(n))."""
    if values.size > count:
        bar = np.partition(values, values.size - count)[values.size - count]  # the count-th largest
        candidates = np.flatnonzero(values >= bar)  # every value that could make the cut, ties too
    else:
        candidates = np.arange(values.size)
    ranked = candidates[np.argsort(-values[candidates], kind="stable")]
    return ranked[:count]


def best_answer(
    context: str,
    spans: Sequence[Span],
    null: float,
    *,
    n_best: int,
    allow_null: bool,
    null_threshold: float,
) -> SpanPrediction:
    """The answer of one question from the candidate spans of all its windows and its null score.

    Equal texts are merged and the best ``n_best`` kept, with probabilities from a softmax over
    their scores and, with ``allow_null``, the null score. The answer is the best candidate (an
    exact substring of ``context``), or ``""`` when ``allow_null`` is on and the null score beats
    the best by more than ``null_threshold``.
    """
    best: list[tuple[float, str, int]] = []
    seen: set[str] = set()
    for score, start, end in sorted(spans, key=lambda span: -span[0]):
        text = context[start:end]
        if text.strip() and text not in seen:
            seen.add(text)
            best.append((score, text, start))
        if len(best) == n_best:
            break
    if not best:
        return SpanPrediction(text="", start=-1)
    scores = [score for score, _, _ in best] + ([null] if allow_null else [])
    top = max(scores)
    weights = [math.exp(score - top) for score in scores]
    total = sum(weights)
    nbest = tuple((text, weight / total) for (_, text, _), weight in zip(best, weights, strict=False))
    if allow_null and null - best[0][0] > null_threshold:
        return SpanPrediction(text="", start=-1, nbest=nbest)
    return SpanPrediction(text=best[0][1], start=best[0][2], nbest=nbest)


Row = tuple[int, np.ndarray, Sequence[int], Sequence[int], Sequence[int]]
"""One window's example number, its scores ``[T, 2]`` and its ``char_start``, ``char_end`` and
``owned`` (see :class:`SpanWindow`)."""


def decode_answers(
    contexts: Sequence[str],
    rows: Iterable[Row],
    *,
    max_answer_length: int,
    n_best: int,
    allow_null: bool,
    null_threshold: float,
) -> list[SpanPrediction]:
    """The answer of every question from the scores of all its windows.

    Each window gives its best spans (:func:`row_spans`); a question's null score is the lowest
    over its windows; :func:`best_answer` picks from all of them.

    Args:
        contexts: Each question's context.
        rows: Every window of the questions (see :data:`Row`), in any order.
        max_answer_length: The longest answer, in tokens.
        n_best: Candidates kept per window and per question.
        allow_null: Whether "no answer" (``""``) may be predicted.
        null_threshold: How much the null score must beat the best span by.
    """
    nulls = [math.inf] * len(contexts)
    candidates: list[list[Span]] = [[] for _ in contexts]
    for owner, scores, char_start, char_end, owned in rows:
        null, spans = row_spans(
            scores, char_start, char_end, owned, max_answer_length=max_answer_length, n_best=n_best
        )
        nulls[owner] = min(nulls[owner], null)
        candidates[owner] += spans
    return [
        best_answer(context, spans, null, n_best=n_best, allow_null=allow_null, null_threshold=null_threshold)
        for context, spans, null in zip(contexts, candidates, nulls, strict=True)
    ]


def span_record(prediction: SpanPrediction) -> dict[str, Any]:
    """``answer``, its ``start`` in the context (``""`` and -1: no answer) and the ``nbest`` answers."""
    nbest = [{"text": text, "probability": round(p, 6)} for text, p in prediction.nbest]
    return {"answer": prediction.text, "start": prediction.start, "nbest": nbest}
