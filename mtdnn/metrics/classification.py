"""Classification metrics over predicted and gold class ids: accuracy, F1 and Matthews correlation."""

from __future__ import annotations

import logging
import math
from typing import Literal, get_args

import torch

from mtdnn.errors import ConfigurationError
from mtdnn.metrics.base import Metric

__all__ = ["F1", "Accuracy", "F1Average", "MatthewsCorrelation"]

logger = logging.getLogger(__name__)

F1Average = Literal["binary", "macro", "micro"]


class Accuracy(Metric):
    """Fraction of predicted class ids that equal the gold class ids.

    Scores are reported under the key ``accuracy``; with nothing accumulated the score is 0.0.
    """

    def compute(self) -> dict[str, float]:
        """Return ``{"accuracy": correct / total}``."""
        predictions, targets = _class_ids(self)
        if targets.numel() == 0:
            return {"accuracy": 0.0}
        return {"accuracy": (predictions == targets).double().mean().item()}


class F1(Metric):
    """F1 score (harmonic mean of precision and recall) of predicted class ids.

    Scores are reported under the key ``f1``. A class whose precision and recall are both
    undefined (never predicted and never gold) scores 0.0, as does an empty evaluation.

    Args:
        average: ``binary`` scores only the class ``positive``; ``macro`` averages the
            per-class F1 over every class seen in predictions or targets; ``micro`` pools the
            counts of all classes (for single-label data this equals accuracy).
        positive: The class id counted as positive when ``average`` is ``binary``.
    """

    def __init__(self, *, average: F1Average = "binary", positive: int = 1) -> None:
        super().__init__()
        choices = get_args(F1Average)
        if average not in choices:
            raise ConfigurationError(
                f"F1 average must be one of {list(choices)}, got {average!r}",
                hint="use 'binary' (with 'positive') for two classes, 'macro' or 'micro' for more",
            )
        self.average = average
        self.positive = positive

    def compute(self) -> dict[str, float]:
        """Return ``{"f1": score}`` for the configured averaging."""
        predictions, targets = _class_ids(self)
        if targets.numel() == 0:
            return {"f1": 0.0}
        if self.average == "binary":
            return {"f1": _class_f1(predictions, targets, self.positive)}
        if self.average == "micro":
            # Every wrong prediction is one false positive and one false negative.
            correct = int((predictions == targets).sum().item())
            wrong = targets.numel() - correct
            return {"f1": _f1_from_counts(correct, wrong, wrong)}
        classes = torch.unique(torch.cat([predictions, targets])).tolist()
        scores = [_class_f1(predictions, targets, int(cls)) for cls in classes]
        return {"f1": sum(scores) / len(scores)}


class MatthewsCorrelation(Metric):
    """Matthews correlation coefficient of predicted class ids, for two or more classes.

    Uses the general multi-class (R_K) formula over the confusion matrix; for two classes it
    is the usual phi coefficient. Scores are reported under the key ``mcc``. When the
    coefficient is undefined (all gold or all predicted ids are one class, or nothing was
    accumulated) the score is 0.0.
    """

    def compute(self) -> dict[str, float]:
        """Return ``{"mcc": coefficient}`` in ``[-1, 1]``."""
        predictions, targets = _class_ids(self)
        if targets.numel() == 0:
            return {"mcc": 0.0}
        classes, inverse = torch.unique(torch.cat([predictions, targets]), return_inverse=True)
        size = len(classes)
        count = targets.numel()
        cells = inverse[count:] * size + inverse[:count]
        confusion = torch.bincount(cells, minlength=size * size).reshape(size, size)  # [gold, pred]
        gold_totals = [int(value) for value in confusion.sum(dim=1).tolist()]
        pred_totals = [int(value) for value in confusion.sum(dim=0).tolist()]
        correct = int(confusion.trace().item())
        covariance = correct * count - sum(g * p for g, p in zip(gold_totals, pred_totals, strict=True))
        gold_spread = count * count - sum(g * g for g in gold_totals)
        pred_spread = count * count - sum(p * p for p in pred_totals)
        if gold_spread == 0 or pred_spread == 0:
            return {"mcc": 0.0}
        return {"mcc": covariance / math.sqrt(gold_spread * pred_spread)}


def _class_ids(metric: Metric) -> tuple[torch.Tensor, torch.Tensor]:
    """The metric's accumulated predictions and targets as integer class ids of equal length.

    Multi-hot rows are flattened, so each (example, label) cell counts as one binary decision.
    """
    predictions, targets = metric.gathered()
    predictions, targets = predictions.reshape(-1), targets.reshape(-1)
    if predictions.numel() != targets.numel():
        raise ValueError(
            f"{type(metric).__name__}: got {predictions.numel()} predictions for {targets.numel()} "
            "targets; update() needs one predicted class id per gold id"
        )
    return predictions.long(), targets.long()


def _class_f1(predictions: torch.Tensor, targets: torch.Tensor, cls: int) -> float:
    """F1 of one class, treating it as positive and every other class as negative."""
    predicted = predictions == cls
    gold = targets == cls
    true_positive = int((predicted & gold).sum().item())
    false_positive = int((predicted & ~gold).sum().item())
    false_negative = int((~predicted & gold).sum().item())
    return _f1_from_counts(true_positive, false_positive, false_negative)


def _f1_from_counts(true_positive: int, false_positive: int, false_negative: int) -> float:
    """F1 from confusion counts, 0.0 when it is undefined."""
    denominator = 2 * true_positive + false_positive + false_negative
    return 0.0 if denominator == 0 else 2 * true_positive / denominator
