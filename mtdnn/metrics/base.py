"""The metric interface: accumulate predictions, then compute named scores."""

from __future__ import annotations

import torch

__all__ = ["Metric"]


class Metric:
    """Accumulates predictions and gold targets over an evaluation and computes scores.

    :meth:`compute` returns a dict whose *first* key is the metric's main score (used for
    model selection when the metric is a task's first metric).
    """

    def __init__(self) -> None:
        self._predictions: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []

    def reset(self) -> None:
        """Forget everything accumulated so far."""
        self._predictions.clear()
        self._targets.clear()

    def update(self, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        """Add one batch: ``predictions`` and ``targets`` are 1-D tensors of equal length."""
        self._predictions.append(predictions.detach().reshape(-1).cpu())
        self._targets.append(targets.detach().reshape(-1).cpu())

    def gathered(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All predictions and targets seen since the last reset, concatenated."""
        if not self._predictions:
            return torch.empty(0), torch.empty(0)
        return torch.cat(self._predictions), torch.cat(self._targets)

    def compute(self) -> dict[str, float]:
        """Return the scores over everything accumulated since the last reset."""
        raise NotImplementedError
