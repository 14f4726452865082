"""Held-out masked-LM scores: token accuracy, loss and perplexity of the masked tokens."""

from __future__ import annotations

import math

from mtdnn.metrics.base import Metric

__all__ = ["MaskedLmMetric"]


class MaskedLmMetric(Metric):
    """Scores a masked-LM head over all masked tokens of an evaluation (not per sequence).

    It reads what the ``mlm`` head predicts per sequence: ``[correct, masked]`` token counts as
    predictions and the summed negative log-likelihood as ``scores``. Keys: ``accuracy`` (main;
    share of masked tokens predicted exactly), ``loss`` (mean cross-entropy per masked token) and
    ``perplexity`` (its exponential).
    """

    def compute(self) -> dict[str, float]:
        """Token accuracy, loss and perplexity; zeros before any update."""
        predictions, _ = self.gathered()
        if not len(predictions) or not self._scores:
            return {"accuracy": 0.0, "loss": 0.0, "perplexity": 0.0}
        counts = predictions.reshape(-1, 2).sum(dim=0)
        total = max(float(counts[1]), 1.0)
        loss = float(sum(score.sum() for score in self._scores)) / total
        return {"accuracy": float(counts[0]) / total, "loss": loss, "perplexity": math.exp(min(loss, 50.0))}
