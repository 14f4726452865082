"""The task-head interface."""

from __future__ import annotations

import torch
from torch import nn

from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["Head"]


class Head(nn.Module):
    """Maps the shared encoder's output to one task's scores."""

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Score one batch of this head's task."""
        raise NotImplementedError

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """Turn scores into predictions (label ids for classification) ``[B]``."""
        raise NotImplementedError

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Turn scores into per-label probabilities ``[B, C]``."""
        raise NotImplementedError
