"""A linear (or one-hidden-layer) classifier over the pooled sequence vector."""

from __future__ import annotations

from typing import Any

import torch

from mtdnn.functional import symmetric_kl, teacher_kl
from mtdnn.heads.base import HuggingFaceHead, LabelHead, dropout_layer, linear_layers, output_layers
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["ClassificationHead"]


class ClassificationHead(LabelHead):
    """Classifies each sequence from the encoder's pooled vector (MT-DNN's single-sentence/pair head).

    Args:
        input_dim: Size of the pooled vector (supplied by the encoder at run time).
        num_labels: Number of classes (supplied by the task's label list at run time).
        dropout: Dropout on the pooled vector before the classifier.
        hidden_dim: If set, a tanh hidden layer of this size comes before the output layer.
        labels: The task's label names in id order (supplied at run time), for predictions.
    """

    def __init__(
        self,
        input_dim: int,
        num_labels: int,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.labels = labels
        self.dropout = dropout_layer(dropout)
        self.classifier = output_layers(input_dim, num_labels, dropout=dropout, hidden_dim=hidden_dim)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Return logits ``[B, num_labels]``."""
        return HeadOutput(logits=self.classifier(self.dropout(encoded.pooled)))

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """The most probable label id of each example."""
        return probabilities.argmax(dim=-1)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Softmax over the labels, in float32."""
        return torch.softmax(output.logits.float(), dim=-1)

    def export_decoding(self) -> dict[str, Any]:
        """Softmax over the labels, then the most probable one."""
        return {"kind": "label", "scores": "softmax", "choose": "argmax"}

    def export_hf(self) -> HuggingFaceHead:
        """``...ForSequenceClassification`` with one label per class (softmax)."""
        return HuggingFaceHead(
            kind="sequence",
            layers=linear_layers(self.classifier),
            problem_type="single_label_classification",
            labels=self.labels,
        )

    reads_tokens = False
    soft_targets = "softmax"

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two class distributions, averaged over the batch."""
        return symmetric_kl(a.logits, b.logits)

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of the class distributions at ``temperature``, averaged over rows."""
        return teacher_kl(output.logits, teacher.to(output.logits.device), temperature=temperature)
