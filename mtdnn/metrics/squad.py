"""The official SQuAD v1.1 / v2.0 evaluation: exact match and token F1 of answer texts."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from typing import Literal, get_args

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import DecodedMetric
from mtdnn.types import Example, SpanPrediction

__all__ = ["SquadMetric", "SquadVersion", "exact_match", "f1_score", "normalize_answer"]

SquadVersion = Literal["1.1", "2.0"]
"""Which official report :class:`SquadMetric` gives: ``1.1`` overall only, ``2.0`` with the split."""

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """Normalize an answer as the official SQuAD scripts do before comparing it.

    In this order: lower-case; delete every ASCII punctuation character (``string.punctuation``);
    replace the words ``a``, ``an`` and ``the`` by a space; collapse runs of whitespace to one
    space and strip the ends.

    Args:
        text: A predicted or gold answer.

    Returns:
        The normalized text (``""`` when nothing but punctuation, articles and spaces is left).
    """
    text = text.lower()
    text = "".join(char for char in text if char not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """Whether the normalized prediction equals one of the normalized gold answers.

    Gold answers are taken as the official v2.0 script takes them: those that normalize to
    ``""`` are left out, and when none is left (an unanswerable question, ``golds`` empty) the
    only gold answer is ``""``, matched by an empty prediction.

    Args:
        prediction: The predicted answer text (``""`` for no answer).
        golds: The gold answer texts (empty for an unanswerable question).

    Returns:
        ``1.0`` on a match, else ``0.0``.
    """
    predicted = normalize_answer(prediction)
    return max(float(predicted == normalize_answer(gold)) for gold in _gold_texts(golds))


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """The best token F1 of the prediction against any gold answer (official SQuAD v2.0 rule).

    Both texts are normalized and split on whitespace; the overlap is the size of the multiset
    intersection of their tokens. When either side has no token, F1 is 1.0 if both have none and
    0.0 otherwise; else it is ``2 * P * R / (P + R)`` with ``P = overlap / len(prediction)`` and
    ``R = overlap / len(gold)`` (0.0 when nothing overlaps). Gold answers are taken as in
    :func:`exact_match`.

    Args:
        prediction: The predicted answer text (``""`` for no answer).
        golds: The gold answer texts (empty for an unanswerable question).

    Returns:
        The maximum F1 over the gold answers, in ``[0, 1]``.
    """
    predicted = normalize_answer(prediction).split()
    return max(_token_f1(predicted, normalize_answer(gold).split()) for gold in _gold_texts(golds))


def _gold_texts(golds: Sequence[str]) -> list[str]:
    """The golds the official v2.0 script scores against: non-empty once normalized, else ``[""]``."""
    kept = [gold for gold in golds if normalize_answer(gold)]
    return kept or [""]


def _token_f1(predicted: list[str], gold: list[str]) -> float:
    """Token F1 of one normalized prediction against one normalized gold answer."""
    if not predicted or not gold:
        return float(predicted == gold)
    overlap = sum((Counter(predicted) & Counter(gold)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted)
    recall = overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


class SquadMetric(DecodedMetric):
    """Exact match and token F1 of predicted answer texts, as the official SQuAD scripts score them.

    :meth:`add` takes one :class:`~mtdnn.types.SpanPrediction` (its ``text`` is scored; ``""``
    means "no answer") or plain answer string per example; the gold answers are the examples'
    ``answers`` (``()`` for an unanswerable question, whose only gold answer is ``""``). Each
    question scores the maximum over its gold answers (see :func:`exact_match` and
    :func:`f1_score`), and the scores are averaged over questions and reported as percentages
    (0-100), like the official scripts. The official v2.0 rules are used for both versions; on
    v1.1 data they differ from the v1.1 script only for a gold answer that normalizes to nothing
    (such as ``"the"``), which v2.0 leaves out.

    The keys are, in this order (``f1`` first: it is the main score): ``f1``, ``exact``, and with
    ``version: '2.0'`` also ``HasAns_f1``, ``HasAns_exact`` (answerable questions only) and
    ``NoAns_f1``, ``NoAns_exact`` (unanswerable questions only). The key set depends only on
    ``version``, never on the data, so a validation metric can be checked before training; a
    group without questions (the ``NoAns`` group of SQuAD 1.1 data) and an empty evaluation score
    0.0. Question counts (the official ``total`` keys) are not reported, as every value is a score.

    Args:
        version: ``2.0`` adds the answerable / unanswerable split of the official v2.0 script
            (its two extra groups are the figures to watch when a model must learn to abstain);
            ``1.1`` reports the overall scores only.
    """

    def __init__(self, *, version: SquadVersion = "2.0") -> None:
        super().__init__()
        choices = get_args(SquadVersion)
        if version not in choices:
            raise ConfigurationError(
                f"SQuAD metric version must be one of {list(choices)}, got {version!r}",
                hint="'2.0' also reports HasAns_* and NoAns_* scores; '1.1' only f1 and exact",
            )
        self.version = version

    def compute(self) -> dict[str, float]:
        """Return the percentages described in the class docstring.

        Raises:
            ValueError: An example has no gold answers (``answers`` is ``None``: unlabelled data),
                or a prediction is neither a :class:`~mtdnn.types.SpanPrediction` nor a string.
        """
        f1: dict[bool, list[float]] = {True: [], False: []}
        exact: dict[bool, list[float]] = {True: [], False: []}
        for prediction, example in zip(self.decoded, self.examples, strict=True):
            text = _prediction_text(prediction, example)
            golds = _gold_answers(example)
            answerable = bool(golds)
            f1[answerable].append(f1_score(text, golds))
            exact[answerable].append(exact_match(text, golds))
        scores = {
            "f1": _percent(f1[True] + f1[False]),
            "exact": _percent(exact[True] + exact[False]),
        }
        if self.version == "2.0":
            scores["HasAns_f1"] = _percent(f1[True])
            scores["HasAns_exact"] = _percent(exact[True])
            scores["NoAns_f1"] = _percent(f1[False])
            scores["NoAns_exact"] = _percent(exact[False])
        return scores


def _prediction_text(prediction: object, example: Example) -> str:
    """The answer text of one decoded prediction."""
    if isinstance(prediction, SpanPrediction):
        return prediction.text
    if isinstance(prediction, str):
        return prediction
    raise ValueError(
        f"SquadMetric: the prediction for example {example.id!r} is a {type(prediction).__name__}; "
        "expected a SpanPrediction or an answer string"
    )


def _gold_answers(example: Example) -> list[str]:
    """The gold answer texts of one example (empty for an unanswerable question)."""
    if example.answers is None:
        raise ValueError(
            f"SquadMetric: example {example.id!r} has no gold answers (answers is None); "
            "unlabelled data cannot be scored"
        )
    return [answer.text for answer in example.answers]


def _percent(values: list[float]) -> float:
    """The mean of per-question scores as a percentage, 0.0 for no question."""
    return 100.0 * sum(values) / len(values) if values else 0.0
