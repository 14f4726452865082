"""The hook that registers the built-in losses.

``mtdnn.losses`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in losses."""
    from mtdnn.losses import (
        BinaryCrossEntropyLoss,
        CrossEntropyLoss,
        Loss,
        MaskedLmLoss,
        MeanSquaredErrorLoss,
        RankingCrossEntropyLoss,
        SpanCrossEntropyLoss,
    )

    registry.add(Loss, "cross_entropy", CrossEntropyLoss)
    registry.add(Loss, "mse", MeanSquaredErrorLoss)
    registry.add(Loss, "ranking_ce", RankingCrossEntropyLoss)
    registry.add(Loss, "bce", BinaryCrossEntropyLoss)
    registry.add(Loss, "mlm", MaskedLmLoss)
    registry.add(Loss, "span_ce", SpanCrossEntropyLoss)
