"""A real-valued output per sequence from the pooled vector (e.g. STS-B similarity scores)."""

from __future__ import annotations

import copy
from typing import Any

import torch

from mtdnn.config.checks import check_range
from mtdnn.errors import ConfigurationError
from mtdnn.functional import squared_error
from mtdnn.heads.base import HuggingFaceHead, LabelHead, dropout_layer, linear_layers, output_layers
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["RegressionHead"]


class RegressionHead(LabelHead):
    """Predicts one real value per sequence from the encoder's pooled vector.

    The logits ``[B, 1]`` are always on the targets' scale. With ``normalize: [low, high]`` the
    output layer works in normalised units (BAM, Clark et al. 2019: STS-B scores ``[0, 5]`` are
    learned as ``[0, 1]``): its raw output ``r`` is mapped back to ``low + (high - low) * r``. Give
    the ``mse`` loss the same ``normalize`` (share it with a jsonnet ``local``) so that the loss
    too is measured in normalised units; either setting alone still predicts on the right scale.

    Args:
        input_dim: Size of the pooled vector (supplied at run time).
        num_labels: Must be 1 (supplied at run time: a task whose reader has no label list).
        dropout: Dropout on the pooled vector.
        hidden_dim: If set, a tanh hidden layer of this size comes before the output.
        normalize: ``[low, high]`` range of the targets that the output layer's unit maps to.
    """

    def __init__(
        self,
        input_dim: int,
        num_labels: int = 1,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        normalize: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        if num_labels != 1:
            raise ConfigurationError(
                f"a regression head predicts one value, but the task has {num_labels} labels",
                hint="use a reader with real-valued labels (no label list), or a classification head",
            )
        check_range(normalize, path="normalize")
        self.normalize = normalize
        self.dropout = dropout_layer(dropout)
        self.regressor = output_layers(input_dim, 1, dropout=dropout, hidden_dim=hidden_dim)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Return predicted values ``[B, 1]`` on the targets' scale (float32)."""
        raw = self.regressor(self.dropout(encoded.pooled)).float()
        if self.normalize is not None:
            low, high = self.normalize
            raw = low + (high - low) * raw
        return HeadOutput(logits=raw)

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """The predicted value of each example ``[N]`` (float32)."""
        return probabilities.float().reshape(-1)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """There are no classes: the predicted values as ``[B, 1]``."""
        return output.logits.float().reshape(-1, 1)

    def export_decoding(self) -> dict[str, Any]:
        """The score is the predicted value."""
        return {"kind": "label", "scores": "value", "choose": "value"}

    def export_hf(self) -> HuggingFaceHead:
        """``...ForSequenceClassification`` with one output (regression); ``normalize`` is folded in."""
        layers = [copy.deepcopy(layer) for layer in linear_layers(self.regressor)]
        if self.normalize is not None:
            low, high = self.normalize
            with torch.no_grad():  # low + (high - low) * (W x + b)
                layers[-1].weight.mul_(high - low)
                layers[-1].bias.mul_(high - low).add_(low)
        return HuggingFaceHead(kind="sequence", layers=tuple(layers), problem_type="regression")

    reads_tokens = False
    soft_targets = "value"

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """Mean squared difference from the teacher's values (``temperature`` does not apply)."""
        return squared_error(output.logits, teacher.to(output.logits.device))

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean squared difference of the two predicted values (on the targets' scale).

        Raises:
            ValueError: The outputs' shapes differ (no broadcasting of ``[B]`` against ``[B, 1]``).
        """
        return squared_error(a.logits, b.logits)
