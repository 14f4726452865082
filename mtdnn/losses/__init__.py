"""Training objectives."""

from __future__ import annotations

from mtdnn.losses.base import Loss
from mtdnn.losses.cross_entropy import CrossEntropyLoss
from mtdnn.losses.mlm import MaskedLmLoss
from mtdnn.losses.multilabel import BinaryCrossEntropyLoss
from mtdnn.losses.ranking import RankingCrossEntropyLoss
from mtdnn.losses.regression import MeanSquaredErrorLoss
from mtdnn.losses.span import SpanCrossEntropyLoss

__all__ = [
    "BinaryCrossEntropyLoss",
    "CrossEntropyLoss",
    "Loss",
    "MaskedLmLoss",
    "MeanSquaredErrorLoss",
    "RankingCrossEntropyLoss",
    "SpanCrossEntropyLoss",
]
