"""Biomedical metrics: relation-extraction P/R/F1 over the positive classes, and BioASQ factoid scores."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from typing import Literal, get_args

import torch

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import DecodedMetric, Metric
from mtdnn.types import Example, SpanPrediction

__all__ = ["BioAsqFactoid", "FactoidMerge", "RelationF1"]

logger = logging.getLogger(__name__)

FactoidMerge = Literal["max", "sum"]
"""How :class:`BioAsqFactoid` scores a candidate proposed by several snippets of one question."""


class RelationF1(Metric):
    """Precision, recall and F1 micro-averaged over the positive relation classes.

    The scores of relation-extraction papers: every class except the ``negative`` ones is a
    relation. A true positive is a correct prediction of a positive class; a false positive is a
    prediction of a positive class that is wrong (a wrong relation, or a relation where the gold
    label is negative); a false negative is an example whose gold class is positive and that is
    not predicted as that class. Precision is TP / (TP + FP), recall TP / (TP + FN), F1 their
    harmonic mean, each 0.0 when undefined (and all 0.0 on an empty evaluation). Reported as
    ``f1`` (the main score), ``precision`` and ``recall``, floats in ``[0, 1]``.

    With ``negative`` empty every wrong prediction is one false positive and one false negative,
    so on single-label data precision = recall = F1 = accuracy. That is the case for ChemProt in
    this data release (SciBERT's preprocessing has no "no relation" class), whose published
    "micro-F1" is therefore accuracy. For binary GAD and EU-ADR, ``negative: ['0']`` gives
    BioBERT's precision, recall and F1 of the positive class.

    Args:
        negative: Label names of the negative ("no relation") classes, left out of the counts
            except as wrong predictions and missed relations; resolved to ids when the task's
            labels are bound. Empty: every class is a relation.

    Raises:
        ConfigurationError: (when the labels are bound) ``negative`` names a label the task does
            not have, names every label, or the task has no label vocabulary.
    """

    def __init__(self, *, negative: Sequence[str] = ()) -> None:
        super().__init__()
        if isinstance(negative, str):
            raise ConfigurationError(
                f"negative must be a list of label names, got the string {negative!r}",
                hint=f"write negative: [{negative!r}]",
            )
        self.negative = list(negative)
        self._negative_ids: list[int] | None = [] if not self.negative else None

    def bind_labels(self, labels: Sequence[str] | None) -> None:
        """Resolve the ``negative`` label names to ids in the task's label vocabulary."""
        if not self.negative:
            self._negative_ids = []
            return
        if labels is None:
            raise ConfigurationError(
                f"negative {self.negative} names classes, but the task has no label vocabulary",
                hint="use relation F1 on a classification task, or leave negative empty",
            )
        vocabulary = list(labels)
        unknown = [name for name in self.negative if name not in vocabulary]
        if unknown:
            raise ConfigurationError(
                f"negative label(s) {unknown} are not labels of the task",
                hint=_label_hint(unknown[0], vocabulary),
            )
        ids = sorted({vocabulary.index(name) for name in self.negative})
        if len(ids) == len(vocabulary):
            raise ConfigurationError(
                f"negative {self.negative} names every label {vocabulary}: no relation class is left",
                hint="list only the 'no relation' class(es) as negative",
            )
        self._negative_ids = ids

    def compute(self) -> dict[str, float]:
        """Return ``{"f1", "precision", "recall"}`` over the positive classes."""
        predictions, targets = self.gathered()
        if targets.numel() == 0:
            return {"f1": 0.0, "precision": 0.0, "recall": 0.0}
        if predictions.dim() != 1 or targets.dim() != 1 or predictions.numel() != targets.numel():
            raise ValueError(
                f"RelationF1: got predictions {tuple(predictions.shape)} for targets "
                f"{tuple(targets.shape)}; update() needs one predicted class id per gold id"
            )
        if self._negative_ids is None:
            raise RuntimeError(
                f"RelationF1 with negative {self.negative} was never given the task's labels: "
                "call bind_labels() before evaluating (building the task does)"
            )
        predictions, targets = predictions.long(), targets.long()
        negative = torch.tensor(self._negative_ids, dtype=torch.long)
        predicted_positive = ~torch.isin(predictions, negative)
        gold_positive = ~torch.isin(targets, negative)
        correct = predictions == targets
        true_positive = int((correct & predicted_positive).sum())
        false_positive = int((~correct & predicted_positive).sum())
        false_negative = int((~correct & gold_positive).sum())
        precision = _ratio(true_positive, true_positive + false_positive)
        recall = _ratio(true_positive, true_positive + false_negative)
        f1 = _ratio(2 * true_positive, 2 * true_positive + false_positive + false_negative)
        return {"f1": f1, "precision": precision, "recall": recall}


class BioAsqFactoid(DecodedMetric):
    """BioASQ factoid scores: mean reciprocal rank, strict and lenient accuracy, per question.

    Predictions are :class:`~mtdnn.types.SpanPrediction` objects, one per example (a
    question-snippet pair). The examples of one question share ``Example.group`` (the BioASQ
    question id; an example without a group is a question of its own), and the gold answers of
    a question are the texts of all its examples' ``answers`` (every synonym of every golden
    answer). For each question the candidates of all its snippets are merged: texts that are
    equal ignoring case are one candidate, scored by the highest of their probabilities
    (``merge: 'max'``) or their sum (``merge: 'sum'``), then ranked by score, ties in the order
    first seen, and the first ``top_k`` kept (BioASQ accepts at most five). A prediction whose
    ``nbest`` is empty proposes its ``text`` with probability 1.0; empty texts are ignored.

    Per question: strict accuracy is 1 if the top candidate matches a gold answer, lenient
    accuracy is 1 if any kept candidate does, and the reciprocal rank is 1/rank of the first
    matching candidate (0 if none). Each is averaged over the questions; a question whose gold
    answer list is empty counts, with 0. Reported as ``mrr`` (BioASQ's official ranking measure
    for factoid questions, the main score), ``strict_accuracy``, ``lenient_accuracy`` and
    ``questions`` (how many were scored), all floats; 0.0 on an empty evaluation.

    Matching follows the official evaluation (``BioASQ/Evaluation-Measures``,
    ``QuestionAnswerEvaluator`` and ``ExactAnswer.containsAnswerSynonym``): golden and submitted
    strings are lower-cased when read and then compared for exact equality, with no trimming of
    whitespace or punctuation, and a submitted answer matches when it equals any synonym of any
    golden answer. BioBERT's conversion of n-best predictions to a submission
    (``biocodes/transform_n2b_factoid.py``) differs from this metric in two ways worth knowing
    when comparing numbers: it *sums* the probabilities of case-insensitively equal texts (use
    ``merge: 'sum'``), and it cleans candidates first (drops one trailing ``,``, ``.`` or space,
    unwraps ``(...)``, drops texts with unbalanced parentheses or over 100 characters), which
    this metric does not.

    Args:
        top_k: How many ranked candidates a question submits (BioASQ: 5).
        merge: How a candidate proposed by several snippets is scored: ``max`` (the highest
            probability) or ``sum`` (the total, as BioBERT's conversion script does).

    Raises:
        ConfigurationError: ``top_k`` is below 1 or ``merge`` is not ``max`` or ``sum``.
    """

    def __init__(self, *, top_k: int = 5, merge: FactoidMerge = "max") -> None:
        super().__init__()
        if top_k < 1:
            raise ConfigurationError(f"top_k must be at least 1, got {top_k}", hint="BioASQ uses 5")
        choices = get_args(FactoidMerge)
        if merge not in choices:
            raise ConfigurationError(
                f"merge must be one of {list(choices)}, got {merge!r}",
                hint="'max' keeps a candidate's best snippet probability, 'sum' adds them up",
            )
        self.top_k = top_k
        self.merge = merge

    def rankings(self) -> dict[str, list[str]]:
        """The ranked candidates (at most ``top_k``) of each question, in order of first appearance.

        Each candidate is spelled as first seen. This is what a BioASQ submission's
        ``exact_answer`` lists, one synonym list per candidate.

        Raises:
            TypeError: A prediction is not a :class:`~mtdnn.types.SpanPrediction`.
        """
        scores: dict[str, dict[str, float]] = {}
        spellings: dict[str, dict[str, str]] = {}
        for prediction, example in zip(self.decoded, self.examples, strict=True):
            question = example.group if example.group is not None else example.id
            merged = scores.setdefault(question, {})
            names = spellings.setdefault(question, {})
            for text, probability in _candidates(prediction, example):
                key = text.lower()
                if key not in merged:
                    names[key] = text
                    merged[key] = probability
                elif self.merge == "max":
                    merged[key] = max(merged[key], probability)
                else:
                    merged[key] += probability
        ranked: dict[str, list[str]] = {}
        for question, merged in scores.items():
            order = sorted(merged, key=lambda key: -merged[key])  # stable: ties keep first-seen order
            ranked[question] = [spellings[question][key] for key in order[: self.top_k]]
        return ranked

    def compute(self) -> dict[str, float]:
        """Return ``{"mrr", "strict_accuracy", "lenient_accuracy", "questions"}``."""
        if not self.examples:
            return {"mrr": 0.0, "strict_accuracy": 0.0, "lenient_accuracy": 0.0, "questions": 0.0}
        gold = _gold_answers(self.examples)
        reciprocal = strict = lenient = 0.0
        for question, candidates in self.rankings().items():
            answers = gold[question]
            rank = next(
                (position for position, text in enumerate(candidates, 1) if text.lower() in answers), None
            )
            if rank is not None:
                reciprocal += 1.0 / rank
                strict += float(rank == 1)
                lenient += 1.0
        count = len(gold)
        return {
            "mrr": reciprocal / count,
            "strict_accuracy": strict / count,
            "lenient_accuracy": lenient / count,
            "questions": float(count),
        }


def _candidates(prediction: object, example: Example) -> list[tuple[str, float]]:
    """The non-empty candidate answers of one prediction with their probabilities."""
    if not isinstance(prediction, SpanPrediction):
        raise TypeError(
            f"BioAsqFactoid scores SpanPrediction objects, got {type(prediction).__name__} "
            f"for example {example.id!r}"
        )
    nbest = prediction.nbest or ((prediction.text, 1.0),)
    return [(text, float(probability)) for text, probability in nbest if text.strip()]


def _gold_answers(examples: Sequence[Example]) -> dict[str, set[str]]:
    """Lower-cased gold answer texts of each question (group), in order of first appearance.

    Raises:
        ValueError: An example is unlabelled (``answers`` is ``None``).
    """
    gold: dict[str, set[str]] = {}
    for example in examples:
        if example.answers is None:
            raise ValueError(
                f"example {example.id!r} has no gold answers (answers=None): BioASQ factoid scores "
                "need the golden file (the bioasq reader's 'golden' option)"
            )
        question = example.group if example.group is not None else example.id
        gold.setdefault(question, set()).update(answer.text.lower() for answer in example.answers)
    return gold


def _ratio(numerator: int, denominator: int) -> float:
    """``numerator / denominator``, 0.0 when the denominator is 0."""
    return 0.0 if denominator == 0 else numerator / denominator


def _label_hint(name: str, labels: list[str]) -> str:
    """Name the valid labels and, when one is close, suggest it."""
    hint = f"choose from {labels}"
    close = difflib.get_close_matches(name, labels, n=1)
    return f"{hint}; did you mean {close[0]!r}?" if close else hint
