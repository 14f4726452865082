"""Independent yes/no decisions for every label (multi-label classification)."""

from __future__ import annotations

from typing import Any

import torch

from mtdnn.functional import bernoulli_kl, teacher_bernoulli_kl
from mtdnn.heads.base import HuggingFaceHead, linear_layers
from mtdnn.heads.classification import ClassificationHead
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["MultiLabelHead"]


class MultiLabelHead(ClassificationHead):
    """Scores every label independently from the encoder's pooled vector; a label applies above 0.5.

    The logits ``[B, num_labels]`` are per-label sigmoid logits (train with the ``bce`` loss);
    predictions are multi-hot ``[B, num_labels]``.

    Args:
        input_dim: Size of the pooled vector (supplied at run time).
        num_labels: Number of labels (supplied at run time).
        dropout: Dropout on the pooled vector (and after the hidden layer).
        hidden_dim: If set, a tanh hidden layer of this size comes before the output layer.
        threshold: A label is predicted when its probability exceeds this.
        labels: The task's label names in id order (supplied at run time), for predictions.
    """

    def __init__(
        self,
        input_dim: int,
        num_labels: int,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        threshold: float = 0.5,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__(input_dim, num_labels, dropout=dropout, hidden_dim=hidden_dim, labels=labels)
        self.threshold = threshold

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """Multi-hot predictions ``[N, num_labels]`` (long): the labels above ``threshold``."""
        return (probabilities > self.threshold).long()

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Per-label sigmoid probabilities, in float32 (rows need not sum to 1)."""
        return torch.sigmoid(output.logits.float())

    def export_decoding(self) -> dict[str, Any]:
        """A sigmoid per label; the labels above ``threshold``."""
        return {"kind": "label", "scores": "sigmoid", "choose": "threshold", "threshold": self.threshold}

    def export_hf(self) -> HuggingFaceHead:
        """``...ForSequenceClassification`` with a sigmoid per label; the threshold goes into the config."""
        return HuggingFaceHead(
            kind="sequence",
            layers=linear_layers(self.classifier),
            problem_type="multi_label_classification",
            labels=self.labels,
            settings={"threshold": self.threshold},
        )

    soft_targets = "sigmoid"

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the yes/no distributions of every label, averaged over labels and rows."""
        return bernoulli_kl(a.logits, b.logits)

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of every label's yes/no distribution, averaged over labels and rows."""
        return teacher_bernoulli_kl(output.logits, teacher.to(output.logits.device), temperature=temperature)
