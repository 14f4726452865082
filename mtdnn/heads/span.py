"""Extractive question answering: the start and end of the answer span in the context."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from mtdnn.data.dataset import TaskData, all_labelled
from mtdnn.encoders.base import Encoder, Features, Pieces
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.functional import IGNORED, squared_error, symmetric_kl, teacher_kl
from mtdnn.heads.base import Head, HuggingFaceHead, dropout_layer
from mtdnn.portable.spans import (
    NULL_POSITION,
    context_windows,
    decode_answers,
    span_record,
    span_windows,
)
from mtdnn.types import EncoderOutput, Example, HeadOutput, SpanPrediction, TaskBatch

__all__ = ["SpanHead", "answer_tokens", "context_windows"]

logger = logging.getLogger(__name__)

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
        self.dropout = dropout_layer(dropout)
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
        self._check_room(task, encoder, max_length)
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
            gold = _gold_tokens(example, context)
            untrainable += gold == "skip"
            unanswerable += example.answers == ()
            rows.add_example(number, question_ids, context, gold, encoder, max_length, self.doc_stride)
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

    def _check_room(self, task: str, encoder: Encoder, max_length: int) -> None:
        """Check that a window holds context beside the longest question, and that windows advance."""
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

    def decoding_settings(self) -> dict[str, Any]:
        """The settings that decide the windows and the answer, for exports."""
        return {
            "doc_stride": self.doc_stride,
            "max_question_length": self.max_question_length,
            **self._answer_settings(),
        }

    def export_scores(self, encoded: EncoderOutput, batch: TaskBatch) -> torch.Tensor:
        """Start and end logits ``[B, T, 2]`` at the input positions: the runtime cuts the padding."""
        logits: torch.Tensor = self.scorer(self.dropout(encoded.hidden))  # forward()'s, before its reordering
        return logits

    def export_decoding(self) -> dict[str, Any]:
        """Question and context windows as in training, then the same n-best decoding."""
        return {"kind": "span", **self.decoding_settings()}

    def export_hf(self) -> HuggingFaceHead:
        """``...ForQuestionAnswering``: its ``qa_outputs`` layer is this head's scorer (start, end)."""
        return HuggingFaceHead(kind="span", layers=(self.scorer,), settings=self.decoding_settings())

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
        rows = (
            (
                data.owner(row),
                row_scores.float().numpy(),
                extra["char_start"],
                extra["char_end"],
                extra["owned"],
            )
            for row, (row_scores, extra) in enumerate(zip(scores, data.extras, strict=True))
        )
        return decode_answers(
            [example.text_b or "" for example in data.examples], rows, **self._answer_settings()
        )

    def _answer_settings(self) -> dict[str, Any]:
        return {
            "max_answer_length": self.max_answer_length,
            "n_best": self.n_best,
            "allow_null": self.allow_null,
            "null_threshold": self.null_threshold,
        }

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """``answer``, its ``start`` in the context (``""`` and -1: no answer) and the ``nbest`` answers."""
        assert isinstance(prediction, SpanPrediction)
        return span_record(prediction)

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        """``STEM.json``: ``{question id: answer}`` (``""`` for no answer), as the SQuAD scripts read it."""
        path = stem.with_name(stem.name + ".json")
        answers = {example.id: item.text for example, item in zip(examples, predictions, strict=True)}
        path.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


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
        max_length: int,
        stride: int,
    ) -> None:
        """Add one row per window of one example's context.

        Args:
            number: The example's index.
            question: The (cut) question's token ids.
            context: The context's tokens.
            gold: The gold answer (see :data:`Gold`); ``None`` when unlabelled.
            encoder: Lays out the rows.
            max_length: Longest row, in tokens.
            stride: Context tokens shared by consecutive windows.
        """
        windows = span_windows(
            question,
            context.ids,
            context.offsets,
            max_length=max_length,
            stride=stride,
            build=encoder.build_inputs,
        )
        for window in windows:
            self.features.append(window.features)
            self.owners.append(number)
            self.extras.append(
                {"char_start": window.char_start, "char_end": window.char_end, "owned": window.owned}
            )
            if gold == "skip":
                self.targets.append((IGNORED, IGNORED))
            elif gold == "null" or (
                gold is not None and not window.first <= gold[0] <= gold[1] < window.last
            ):
                self.targets.append((NULL_POSITION, NULL_POSITION))
            elif gold is not None:
                start, end = (window.offset + token - window.first for token in gold)
                self.targets.append((start, end))


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
