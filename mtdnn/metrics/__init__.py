"""Built-in metrics: accumulate predictions and compute named scores."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.metrics.base import Metric
from mtdnn.metrics.classification import F1, Accuracy, MatthewsCorrelation
from mtdnn.registry import Registry

__all__ = ["F1", "Accuracy", "MatthewsCorrelation", "Metric"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in metrics."""
    registry.add(Metric, "accuracy", Accuracy)
    registry.add(Metric, "f1", F1)
    registry.add(Metric, "mcc", MatthewsCorrelation)
