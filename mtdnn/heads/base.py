"""The task-head interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from mtdnn.data.dataset import TaskData, featurize_examples
from mtdnn.encoders.base import Encoder
from mtdnn.types import EncoderOutput, Example, HeadOutput, TaskBatch

__all__ = ["Head", "output_layers"]


class Head(nn.Module):
    """Maps the shared encoder's output to one task's scores.

    A ``self_supervised`` head makes its targets from its input (masked-LM), so its task trains
    and evaluates on unlabelled files.

    A ``structured`` head predicts a structure per example (a tag per word, an answer span)
    rather than a label: it featurizes its task's examples itself (:meth:`featurize`, e.g. into
    overlapping windows), returns the scores of each row (:meth:`row_scores`) and merges them into
    one decoded prediction per example (:meth:`decode`), which
    :class:`~mtdnn.metrics.base.DecodedMetric` metrics score.
    """

    self_supervised: ClassVar[bool] = False
    structured: ClassVar[bool] = False
    input_words: ClassVar[bool] = False
    """Whether the head labels words (``Example.words``), so raw text must be split into words first."""

    def featurize(
        self,
        task: str,
        examples: list[Example],
        encoder: Encoder,
        *,
        max_length: int,
        labels: Sequence[str] | None,
        source: str,
    ) -> TaskData:
        """Turn a task's examples into rows for this head; by default one row per example.

        Args:
            task: The task's name.
            examples: The examples, in file order.
            encoder: Supplies tokenization.
            max_length: Longest row, in tokens.
            labels: The task's label vocabulary (``None``: real-valued targets or unlabelled).
            source: Where the examples came from, for messages.
        """
        return featurize_examples(
            task, examples, encoder, max_length=max_length, labels=labels, source=source
        )

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

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """How far two outputs of this head for the same (prepared) batch are apart.

        Objectives that compare two forward passes use it: R-Drop's two dropout masks, SMART's
        clean and perturbed inputs, a student and its teacher. Built-in heads compute it in
        float32 (also under autocast), as a scalar that is 0 for equal outputs and > 0 otherwise,
        differentiable in both arguments.

        Raises:
            NotImplementedError: The head does not define it (objectives check this in their
                ``setup`` and say which head lacks it).
        """
        raise NotImplementedError(f"{type(self).__name__} does not define divergence(a, b, batch)")

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """A structured head's scores of each row of a batch, on the CPU (shapes may differ per row)."""
        raise NotImplementedError(f"{type(self).__name__} is not a structured head")

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """Merge the rows' scores (in row order) into one decoded prediction per example of ``data``."""
        raise NotImplementedError(f"{type(self).__name__} is not a structured head")


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
