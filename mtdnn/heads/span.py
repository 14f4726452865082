"""Extractive question answering: the start and end of the answer span in the context."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from mtdnn.data.dataset import TaskData, all_labelled
from mtdnn.data.words import best_windows
from mtdnn.encoders.base import Encoder, Features, Pieces
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.functional import IGNORED, squared_error, symmetric_kl, teacher_kl
from mtdnn.heads.base import Head, HuggingFaceHead
from mtdnn.types import EncoderOutput, Example, HeadOutput, SpanPrediction, TaskBatch

__all__ = ["SpanHead", "answer_tokens", "context_windows"]

logger = logging.getLogger(__name__)

NULL_POSITION = 0
"""The input position that stands for "no answer here" (BERT's ``[CLS]``, RoBERTa's ``<s>``)."""

Gold = tuple[int, int] | Literal["null", "skip"]
"""An example's answer for training: the first and last context token of its first answer with a
usable offset; ``null`` for an unanswerable question; ``skip`` for an answered question none of
whose answers has a usable offset (not trained on)."""


class SpanHead(Head):
    """Finds the answer to a question (``text_a``) as a span of its context (``text_b``).

    A row is the question and one window of the context, laid out as the encoder lays out a text
    pair. A long context is cut into windows of whole tokens that share ``doc_stride`` tokens
    with the next (Hugging Face's meaning of ``doc_stride``; in BERT's original code it was the
    step between windows), so every context token is in some window. A linear layer scores every
    token as the answer's start and as its end.

    The targets of a row are the input positions of the first and last token of the first answer
    with an offset (``Answer.start >= 0``); tokens that only partly overlap the answer count. A
    window that does not hold the whole answer, and every window of an unanswerable question,
    points at the first input position (the null position, as in BERT). An answered question
    none of whose answers has an offset (BioASQ answers known only as text) is not trained on
    (targets -1). As in BERT and Hugging Face, the loss sees every real token; only decoding is
    restricted to the context. Train with the ``span_ce`` loss; score with ``squad``.

    Decoding takes, from every window of a question, its ``n_best`` best spans (exactly, by start
    + end logit) that lie in the context, end at or after their start and have at most
    ``max_answer_length`` tokens, each start only from the window where its token has the most
    context (BERT's rule, which also keeps a span from being proposed twice). Equal texts are
    merged and the best ``n_best`` kept, with probabilities from a softmax over their scores and,
    with ``allow_null``, the null score (the lowest null-position start + end over the windows).
    The answer is the best candidate, cut from the context from its first token's first
    character to its last token's last character: an exact substring of the context. With
    ``allow_null`` it is ``""`` when the null score beats the best score by more than
    ``null_threshold``.

    Args:
        input_dim: Size of the token states (supplied at run time).
        dropout: Dropout on the token states before scoring.
        doc_stride: Context tokens shared by consecutive windows of a long context; must be
            smaller than the context tokens a window holds at the least (``max_length`` minus
            the special tokens and ``max_question_length``), so that windows advance.
        max_question_length: Questions are cut to this many tokens.
        max_answer_length: The longest answer predicted, in tokens.
        n_best: How many candidate answers decoding keeps per window and per question (listed
            with their probabilities in ``SpanPrediction.nbest``).
        allow_null: Whether the head may answer "no answer" (``""``): on for SQuAD 2.0, off for
            SQuAD 1.1 and BioASQ, where every question is answerable. Training is the same
            either way.
        null_threshold: With ``allow_null``, predict no answer when the null score minus the best
            candidate's score is above this (tune it on dev data as SQuAD 2.0 systems do).
    """

    def __init__(
        self,
        input_dim: int,
        *,
        dropout: float = 0.1,
        doc_stride: int = 128,
        max_question_length: int = 64,
        max_answer_length: int = 30,
        n_best: int = 20,
        allow_null: bool = False,
        null_threshold: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigurationError(f"dropout must be in [0, 1), got {dropout}", path="dropout")
        if doc_stride < 0:
            raise ConfigurationError(
                f"doc_stride must not be negative, got {doc_stride}",
                path="doc_stride",
                hint="it is the number of context tokens consecutive windows share (0: no overlap)",
            )
        for key, value in (
            ("max_question_length", max_question_length),
            ("max_answer_length", max_answer_length),
            ("n_best", n_best),
        ):
            if value < 1:
                raise ConfigurationError(f"{key} must be at least 1, got {value}", path=key)
        self.doc_stride = doc_stride
        self.max_question_length = max_question_length
        self.max_answer_length = max_answer_length
        self.n_best = n_best
        self.allow_null = allow_null
        self.null_threshold = null_threshold
        self.dropout = nn.Dropout(dropout)
        self.scorer = nn.Linear(input_dim, 2)

    def featurize(
        self,
        task: str,
        examples: list[Example],
        encoder: Encoder,
        *,
        max_length: int,
        labels: Sequence[str] | None,
        source: str,
    ) -> TaskData:
        """Cut each context into windows; a row's target is ``(start, end)``, input positions of the answer.

        Each row's extras are ``char_start`` and ``char_end`` (the character span in the context
        of the token at each input position, -1 outside the context) and ``owned`` (1 where this
        window is the one in which that context token has the most context).

        Raises:
            ConfigurationError: ``max_length`` leaves no room for the context, or ``doc_stride``
                does not fit in a window.
            DataError: There are no examples, an example has no context or an empty question,
                or some examples are labelled and others not.
        """
        self._check_examples(examples, source)
        least = self._least_context(task, encoder, max_length)
        questions = encoder.tokenize([example.text_a for example in examples])
        contexts = _tokenize_contexts(encoder, [example.text_b or "" for example in examples])
        rows = _Rows()
        untrainable = unanswerable = 0
        for number, (example, question, context) in enumerate(
            zip(examples, questions, contexts, strict=True)
        ):
            question_ids = question.ids[: self.max_question_length]
            if not question_ids:
                raise DataError(f"example {example.id!r} has an empty question", file=source)
            budget = least + self.max_question_length - len(question_ids)
            gold = _gold_tokens(example, context)
            untrainable += gold == "skip"
            unanswerable += example.answers == ()
            rows.add_example(number, question_ids, context, gold, encoder, budget, self.doc_stride)
        if untrainable:
            logger.info(
                "%s: %d answered questions have no answer offset and are not trained on", task, untrainable
            )
        if unanswerable and not self.allow_null:
            logger.warning(
                "%s: %s has %d unanswerable questions, but the span head's allow_null is off, so it "
                "never predicts 'no answer' (set allow_null: true for SQuAD 2.0)",
                task,
                source,
                unanswerable,
            )
        logger.info("%s: %d questions in %d windows from %s", task, len(examples), len(rows.features), source)
        labelled = examples[0].answers is not None
        return TaskData(
            task=task,
            examples=tuple(examples),
            features=tuple(rows.features),
            targets=tuple(rows.targets) if labelled else None,
            owners=tuple(rows.owners),
            extras=tuple(rows.extras),
            label_padding=IGNORED,
        )

    @staticmethod
    def _check_examples(examples: list[Example], source: str) -> None:
        """Refuse no examples, examples without a context, and a mix of labelled and unlabelled ones."""
        if not examples:
            raise DataError("the file holds no examples", file=source)
        for example in examples:
            if example.text_b is None:
                raise DataError(
                    f"example {example.id!r} has no context (text_b); extractive QA needs a reader "
                    "that gives a question and its context, such as 'squad'",
                    file=source,
                )
        all_labelled(examples, "answers", source=source)

    def _least_context(self, task: str, encoder: Encoder, max_length: int) -> int:
        """The context tokens a window holds at the least (with the longest question), checked."""
        least = max_length - encoder.special_tokens(pair=True) - self.max_question_length
        if least < 1:
            raise ConfigurationError(
                f"max_length {max_length} leaves no room for the context after a question of "
                f"{self.max_question_length} tokens and the special tokens",
                path=f"tasks.{task}.max_length",
                hint="raise max_length (BERT uses 384 for SQuAD) or lower head.max_question_length",
            )
        if self.doc_stride >= least:
            raise ConfigurationError(
                f"doc_stride {self.doc_stride} is not below {least}, the context tokens a window holds "
                f"at the least (max_length {max_length} minus the special tokens and "
                f"max_question_length {self.max_question_length}), so windows could not advance",
                path=f"tasks.{task}.head.doc_stride",
                hint=f"choose doc_stride below {least}, or raise max_length (BERT: 384 with doc_stride 128)",
            )
        return least

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Start and end logits ``[B, T, 2]`` of every input position of each row.

        Position ``i`` is the row's ``i``-th real token whatever side the tokenizer pads on, and
        the padding (at the end) gets the lowest finite logit.
        """
        logits = self.scorer(self.dropout(encoded.hidden))
        mask = encoded.mask.bool()
        order = torch.argsort((~mask).int(), dim=1, stable=True)  # real tokens first, in order
        logits = torch.gather(logits, 1, order.unsqueeze(-1).expand(-1, -1, 2))
        real = torch.gather(mask, 1, order).unsqueeze(-1)
        return HeadOutput(logits=logits.masked_fill(~real, torch.finfo(logits.dtype).min))

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """The best start and the best end position of each row ``[B, 2]``, each chosen alone.

        This is no answer span (the end may come before the start, or lie in the question):
        answers come from :meth:`decode`.
        """
        return output.logits.argmax(dim=1)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Softmax over each row's positions of the start and of the end logits ``[B, T, 2]``, in float32."""
        return torch.softmax(output.logits.float(), dim=1)

    def export_hf(self) -> HuggingFaceHead:
        """``...ForQuestionAnswering``: its ``qa_outputs`` layer is this head's scorer (start, end)."""
        return HuggingFaceHead(
            kind="span",
            layers=(self.scorer,),
            settings={
                "doc_stride": self.doc_stride,
                "max_question_length": self.max_question_length,
                "max_answer_length": self.max_answer_length,
                "n_best": self.n_best,
                "allow_null": self.allow_null,
                "null_threshold": self.null_threshold,
            },
        )

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two start distributions and between the two end distributions.

        Each distribution runs over a row's real tokens (the positions the loss sees); the mean
        over the rows of the start and the end divergence is averaged.
        """
        lengths = batch.inputs["attention_mask"].sum(dim=1, keepdim=True).to(a.logits.device)
        padding = torch.arange(a.logits.size(1), device=a.logits.device).unsqueeze(0) >= lengths
        first, second = (
            output.logits.float().masked_fill(padding.unsqueeze(-1), -torch.inf) for output in (a, b)
        )
        return symmetric_kl(first, second, dim=1)

    soft_targets = "positions"
    soft_positions = "token"

    def teacher_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """The start and end logits ``[T_row, 2]`` of each window's real tokens, float32 on the CPU.

        Stored per window and token, they fit only a student with the same tokenizer, ``max_length``
        and ``doc_stride`` (the same windows of the same tokens); :meth:`teacher_batch` checks.
        """
        return self.row_scores(output, batch)

    def teacher_batch(self, rows: Sequence[torch.Tensor], batch: TaskBatch) -> torch.Tensor:
        """The windows' ``[T_row, 2]`` logits padded to ``[B, T, 2]`` with ``-inf`` (no probability).

        Raises:
            DataError: A window's targets have another number of tokens than the student's window
                (another tokenizer, ``max_length`` or ``doc_stride``).
        """
        lengths = batch.inputs["attention_mask"].sum(dim=1).tolist()
        width = batch.inputs["attention_mask"].shape[1]
        teacher = torch.full((len(rows), width, 2), -torch.inf)
        for number, (row, length) in enumerate(zip(rows, lengths, strict=True)):
            if row.shape[0] != length:
                raise DataError(
                    f"window {batch.ids[number]!r} has {length} tokens and its soft targets {row.shape[0]}: "
                    "span targets need the teacher's tokenizer, max_length and doc_stride"
                )
            teacher[number, :length] = row
        return teacher

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of the start and of the end distribution over each window's tokens."""
        teacher = teacher.to(output.logits.device)
        student = output.logits.float().masked_fill(torch.isinf(teacher), -torch.inf)
        return teacher_kl(student, teacher, dim=1, temperature=temperature)

    def logit_distance(self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean squared difference of the real tokens' start and end logits."""
        teacher = teacher.to(output.logits.device)
        real = ~torch.isinf(teacher)
        return squared_error(output.logits, teacher.masked_fill(~real, 0.0), mask=real)

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """The start and end logits ``[T_row, 2]`` of each row's real tokens, in float32."""
        logits = output.logits.float().cpu()
        lengths = batch.inputs["attention_mask"].sum(dim=1).tolist()
        return [row[:length] for row, length in zip(logits, lengths, strict=True)]

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """One :class:`~mtdnn.types.SpanPrediction` per example, from the scores of all its windows."""
        if data.extras is None:
            raise ValueError("span data without character offsets; featurize it with the span head")
        nulls = [math.inf] * len(data.examples)
        candidates: list[list[tuple[float, int, int]]] = [[] for _ in data.examples]
        for row, row_scores in enumerate(scores):
            owner = data.owner(row)
            null, spans = self._row_spans(row_scores, data.extras[row])
            nulls[owner] = min(nulls[owner], null)
            candidates[owner] += spans
        return [
            self._prediction(example.text_b or "", spans, null)
            for example, spans, null in zip(data.examples, candidates, nulls, strict=True)
        ]

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """``answer``, its ``start`` in the context (``""`` and -1: no answer) and the ``nbest`` answers."""
        assert isinstance(prediction, SpanPrediction)
        nbest = [{"text": text, "probability": round(p, 6)} for text, p in prediction.nbest]
        return {"answer": prediction.text, "start": prediction.start, "nbest": nbest}

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        """``STEM.json``: ``{question id: answer}`` (``""`` for no answer), as the SQuAD scripts read it."""
        path = stem.with_name(stem.name + ".json")
        answers = {example.id: item.text for example, item in zip(examples, predictions, strict=True)}
        path.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def _row_spans(self, scores: torch.Tensor, extra: Features) -> tuple[float, list[tuple[float, int, int]]]:
        """The null score of one row and its ``n_best`` best spans ``(score, char start, char end)``."""
        starts, ends = scores[:, 0], scores[:, 1]
        null = float(starts[NULL_POSITION] + ends[NULL_POSITION])
        char_start, char_end = extra["char_start"], extra["char_end"]
        if len(char_start) != len(scores):
            raise ValueError(f"a row has {len(scores)} scores for {len(char_start)} input positions")
        positions = [position for position, char in enumerate(char_start) if char >= 0]
        if not positions:
            return null, []
        first, last = positions[0], positions[-1] + 1  # the context is contiguous
        owned = torch.tensor(extra["owned"][first:last], dtype=torch.bool)
        width = self.max_answer_length
        start_scores = starts[first:last].masked_fill(~owned, -math.inf)
        end_scores = torch.cat([ends[first:last], torch.full((width - 1,), -math.inf)])
        # pairs[i, d]: the span from context token i to context token i + d
        pairs = start_scores.unsqueeze(1) + end_scores.unfold(0, width, 1)
        values, indices = pairs.flatten().topk(min(self.n_best, pairs.numel()))
        spans: list[tuple[float, int, int]] = []
        for value, index in zip(values.tolist(), indices.tolist(), strict=True):
            if value == -math.inf:
                break
            token, length = divmod(index, width)
            spans.append((value, char_start[first + token], char_end[first + token + length]))
        return null, spans

    def _prediction(self, context: str, spans: list[tuple[float, int, int]], null: float) -> SpanPrediction:
        """The answer of one question from its candidate spans and null score."""
        best: list[tuple[float, str, int]] = []
        seen: set[str] = set()
        for score, start, end in sorted(spans, key=lambda span: -span[0]):
            text = context[start:end]
            if text.strip() and text not in seen:
                seen.add(text)
                best.append((score, text, start))
            if len(best) == self.n_best:
                break
        if not best:
            return SpanPrediction(text="", start=-1)
        scores = [score for score, _, _ in best] + ([null] if self.allow_null else [])
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        total = sum(weights)
        nbest = tuple((text, weight / total) for (_, text, _), weight in zip(best, weights, strict=False))
        if self.allow_null and null - best[0][0] > self.null_threshold:
            return SpanPrediction(text="", start=-1, nbest=nbest)
        return SpanPrediction(text=best[0][1], start=best[0][2], nbest=nbest)


class _Rows:
    """The rows of a span task as they are built: features, targets, owners and extras."""

    def __init__(self) -> None:
        self.features: list[Features] = []
        self.targets: list[tuple[int, ...]] = []
        self.owners: list[int] = []
        self.extras: list[Features] = []

    def add_example(
        self,
        number: int,
        question: Sequence[int],
        context: Pieces,
        gold: Gold | None,
        encoder: Encoder,
        budget: int,
        stride: int,
    ) -> None:
        """Add one row per window of one example's context.

        Args:
            number: The example's index.
            question: The (cut) question's token ids.
            context: The context's tokens.
            gold: The gold answer (see :data:`Gold`); ``None`` when unlabelled.
            encoder: Lays out the rows.
            budget: Most context tokens in one window.
            stride: Context tokens shared by consecutive windows.
        """
        windows = context_windows(len(context.ids), budget, stride)
        best = best_windows([1] * len(context.ids), windows)
        for window, (first, last) in enumerate(windows):
            features, _, offset = encoder.build_inputs(question, context.ids[first:last])
            if offset is None:
                raise ValueError(
                    f"{type(encoder).__name__}.build_inputs gave no position to a pair's second text"
                )
            size = len(features["input_ids"])
            char_start, char_end, owned = [-1] * size, [-1] * size, [0] * size
            for token in range(first, last):
                position = offset + token - first
                char_start[position], char_end[position] = context.offsets[token]
                owned[position] = int(best[token] == window)
            self.features.append(features)
            self.owners.append(number)
            self.extras.append({"char_start": char_start, "char_end": char_end, "owned": owned})
            if gold == "skip":
                self.targets.append((IGNORED, IGNORED))
            elif gold == "null" or (gold is not None and not first <= gold[0] <= gold[1] < last):
                self.targets.append((NULL_POSITION, NULL_POSITION))
            elif gold is not None:
                self.targets.append((offset + gold[0] - first, offset + gold[1] - first))


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


def answer_tokens(offsets: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """The first and last token whose characters overlap ``[start, end)``; ``None`` if none does."""
    overlapping = [
        token for token, (first, last) in enumerate(offsets) if first < last and first < end and last > start
    ]
    if not overlapping:
        return None
    return overlapping[0], overlapping[-1]


def _gold_tokens(example: Example, context: Pieces) -> Gold | None:
    """The gold answer of an example for training (see :data:`Gold`); ``None`` when unlabelled."""
    if example.answers is None:
        return None
    if not example.answers:
        return "null"
    for answer in example.answers:
        if answer.start >= 0:
            tokens = answer_tokens(context.offsets, answer.start, answer.end)
            if tokens is not None:
                return tokens
    return "skip"


def _tokenize_contexts(encoder: Encoder, contexts: list[str]) -> list[Pieces]:
    """Tokenize each distinct context once (SQuAD asks several questions about each paragraph)."""
    distinct = list(dict.fromkeys(contexts))
    pieces = dict(zip(distinct, encoder.tokenize(distinct), strict=True))
    return [pieces[context] for context in contexts]
