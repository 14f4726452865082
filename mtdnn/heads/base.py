"""The task-head interface."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["Head", "output_layers"]


class Head(nn.Module):
    """Maps the shared encoder's output to one task's scores.

    A ``self_supervised`` head makes its targets from its input (masked-LM), so its task trains
    and evaluates on unlabelled files.
    """

    self_supervised: ClassVar[bool] = False

    def prepare(self, batch: TaskBatch) -> TaskBatch:
        """Change a batch before the encoder sees it (masked-LM masks tokens); the default keeps it."""
        return batch

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Score one batch of this head's task (after :meth:`prepare`)."""
        raise NotImplementedError

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """Turn scores into predictions (label ids for classification) ``[B]``."""
        raise NotImplementedError

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Turn scores into per-label probabilities ``[B, C]``."""
        raise NotImplementedError


def output_layers(
    input_dim: int, output_dim: int, *, dropout: float, hidden_dim: int | None
) -> nn.Sequential:
    """The layers many heads put on the pooled vector: an optional tanh hidden layer, then a linear one.

    Args:
        input_dim: Size of the input vector.
        output_dim: Size of the output (labels, or 1 for a score).
        dropout: Dropout after the hidden layer (the head applies its own input dropout).
        hidden_dim: Size of the hidden layer; ``None`` for a single linear layer.
    """
    layers: list[nn.Module] = []
    width = input_dim
    if hidden_dim is not None:
        layers += [nn.Linear(input_dim, hidden_dim), nn.Tanh(), nn.Dropout(dropout)]
        width = hidden_dim
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)
