"""Training objectives."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.losses.base import Loss
from mtdnn.losses.cross_entropy import CrossEntropyLoss
from mtdnn.losses.mlm import MaskedLmLoss
from mtdnn.losses.multilabel import BinaryCrossEntropyLoss
from mtdnn.losses.ranking import RankingCrossEntropyLoss
from mtdnn.losses.regression import MeanSquaredErrorLoss
from mtdnn.losses.span import SpanCrossEntropyLoss
from mtdnn.registry import Registry

__all__ = [
    "BinaryCrossEntropyLoss",
    "CrossEntropyLoss",
    "Loss",
    "MaskedLmLoss",
    "MeanSquaredErrorLoss",
    "RankingCrossEntropyLoss",
    "SpanCrossEntropyLoss",
]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in losses."""
    registry.add(Loss, "cross_entropy", CrossEntropyLoss)
    registry.add(Loss, "mse", MeanSquaredErrorLoss)
    registry.add(Loss, "ranking_ce", RankingCrossEntropyLoss)
    registry.add(Loss, "bce", BinaryCrossEntropyLoss)
    registry.add(Loss, "mlm", MaskedLmLoss)
    registry.add(Loss, "span_ce", SpanCrossEntropyLoss)
