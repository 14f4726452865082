"""Correlation of predicted and gold real values: Pearson's r and Spearman's rho."""

from __future__ import annotations

import math

import torch

from mtdnn.metrics.base import Metric

__all__ = ["PearsonCorrelation", "SpearmanCorrelation", "average_ranks"]


class PearsonCorrelation(Metric):
    """Pearson correlation of predicted and gold values, reported as ``pearson``.

    The score is 0.0 when it is undefined (fewer than two values, or either side constant).
    """

    def compute(self) -> dict[str, float]:
        """Return ``{"pearson": r}`` in ``[-1, 1]``."""
        predictions, targets = _values(self)
        return {"pearson": _pearson(predictions, targets)}


class SpearmanCorrelation(Metric):
    """Spearman rank correlation (Pearson's r of the ranks, ties averaged), reported as ``spearman``.

    The score is 0.0 when it is undefined (fewer than two values, or either side constant).
    """

    def compute(self) -> dict[str, float]:
        """Return ``{"spearman": rho}`` in ``[-1, 1]``."""
        predictions, targets = _values(self)
        return {"spearman": _pearson(average_ranks(predictions), average_ranks(targets))}


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks of ``values [N]`` in float64, tied values sharing their mean rank."""
    values = values.double().reshape(-1)
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).double()  # rank of the last member of each run of ties
    mean_rank = ends - (counts.double() - 1) / 2
    ranks: torch.Tensor = mean_rank[inverse]
    return ranks


def _values(metric: Metric) -> tuple[torch.Tensor, torch.Tensor]:
    predictions, targets = metric.gathered()
    predictions, targets = predictions.double().reshape(-1), targets.double().reshape(-1)
    if predictions.numel() != targets.numel():
        raise ValueError(
            f"{type(metric).__name__}: got {predictions.numel()} predictions for {targets.numel()} targets"
        )
    return predictions, targets


def _pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    if x.numel() < 2:
        return 0.0
    x, y = x - x.mean(), y - y.mean()
    spread = math.sqrt(float((x * x).sum()) * float((y * y).sum()))
    return 0.0 if spread == 0.0 else max(-1.0, min(1.0, float((x * y).sum()) / spread))
