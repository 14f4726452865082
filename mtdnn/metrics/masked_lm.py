"""Held-out masked-LM scores: token accuracy, loss and perplexity of the masked tokens."""

from __future__ import annotations

import math

from mtdnn.metrics.base import DecodedMetric
from mtdnn.types import MaskedTokens

__all__ = ["MaskedLmMetric"]


class MaskedLmMetric(DecodedMetric):
    """Scores a masked-LM head over all masked tokens of an evaluation (not per sequence).

    It reads what the ``mlm`` head predicts per sequence (:class:`~mtdnn.types.MaskedTokens`:
    the masked and correctly predicted token counts and their summed negative log-likelihood).
    Keys: ``accuracy`` (main; share of masked tokens predicted exactly), ``loss`` (mean
    cross-entropy per masked token) and ``perplexity`` (its exponential).
    """

    def compute(self) -> dict[str, float]:
        """Token accuracy, loss and perplexity; zeros before any update.

        Raises:
            TypeError: A prediction is not :class:`~mtdnn.types.MaskedTokens` (not an ``mlm`` head's).
        """
        if any(not isinstance(item, MaskedTokens) for item in self.decoded):
            raise TypeError("masked_lm scores the predictions of an 'mlm' head (MaskedTokens)")
        masked = sum(item.masked for item in self.decoded)
        if not masked:
            return {"accuracy": 0.0, "loss": 0.0, "perplexity": 0.0}
        correct = sum(item.correct for item in self.decoded)
        loss = sum(item.loss for item in self.decoded) / masked
        return {"accuracy": correct / masked, "loss": loss, "perplexity": math.exp(min(loss, 50.0))}
