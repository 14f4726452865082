"""Ranks the candidates of each query by a relevance score (MT-DNN's QNLI formulation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mtdnn.errors import ConfigurationError
from mtdnn.functional import group_log_softmax, group_softmax, group_top
from mtdnn.heads.base import HuggingFaceHead, LabelHead, dropout_layer, output_layers
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch

__all__ = ["RankingHead", "RankingOutput"]


@dataclass(frozen=True)
class RankingOutput(HeadOutput):
    """A ranking head's output: one score per pair ``logits [B, 1]`` and the pairs' groups.

    Args:
        logits: Relevance scores ``[B, 1]``, already multiplied by ``gamma``.
        groups: Group id of each pair ``[B]`` (each pair its own group when the batch has none).
    """

    groups: torch.Tensor | None = None


class RankingHead(LabelHead):
    """Scores each (query, candidate) pair from the pooled vector; the candidates of a query compete.

    A query's candidates share :attr:`Example.group <mtdnn.types.Example.group>` and are batched
    together. Training (loss ``ranking_ce``) takes a softmax of the scores over each group.
    Predictions are per pair, in the task's label ids: the top-scored candidate of each group
    gets the ``positive`` label id and every other candidate the other one, so ordinary
    ``accuracy``/``f1`` score pair labels and ``ranking_accuracy`` scores the groups. A pair
    without a group is a group of its own (and so is always predicted positive).

    Args:
        input_dim: Size of the pooled vector (supplied at run time).
        num_labels: Must be 2: positive and negative (supplied at run time).
        dropout: Dropout on the pooled vector.
        hidden_dim: If set, a tanh hidden layer of this size comes before the score.
        gamma: Multiplies the scores, i.e. the inverse temperature of the group softmax.
        positive: Label id of a relevant candidate (the task's first label by default, e.g.
            ``entailment`` for QNLI); give ``ranking_ce`` and ``ranking_accuracy`` the same id.
        labels: The task's label names in id order (supplied at run time), for predictions.
    """

    def __init__(
        self,
        input_dim: int,
        num_labels: int,
        *,
        dropout: float = 0.1,
        hidden_dim: int | None = None,
        gamma: float = 1.0,
        positive: int = 0,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.labels = labels
        if num_labels != 2:
            raise ConfigurationError(
                f"a ranking head needs a task with exactly 2 labels (relevant or not), got {num_labels}",
            )
        if positive not in (0, 1):
            raise ConfigurationError(f"positive must be the label id 0 or 1, got {positive}", path="positive")
        if gamma <= 0:
            raise ConfigurationError(f"gamma must be positive, got {gamma}", path="gamma")
        self.gamma = gamma
        self.positive = positive
        self.dropout = dropout_layer(dropout)
        self.scorer = output_layers(input_dim, 1, dropout=dropout, hidden_dim=hidden_dim)

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> RankingOutput:
        """Return the scaled scores ``[B, 1]`` (float32) with the batch's groups."""
        scores = self.gamma * self.scorer(self.dropout(encoded.pooled)).float()
        return RankingOutput(logits=scores, groups=batch.groups)

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """Per-pair label ids ``[N]``: ``positive`` for the most probable candidate of each group.

        A pair without a group is a group of its own (and so is always predicted positive).
        """
        relevant = probabilities[:, self.positive]
        if groups is None:
            groups = torch.arange(len(relevant), device=relevant.device)
        top = group_top(relevant, groups.to(relevant.device))
        return torch.where(top, self.positive, 1 - self.positive)

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """``[B, 2]`` in label-id order: ``positive`` holds the softmax of the scores over the group."""
        relevant = group_softmax(output.logits.reshape(-1), _groups(output))
        columns = [relevant, 1.0 - relevant]
        return torch.stack(columns if self.positive == 0 else columns[::-1], dim=-1)

    def export_decoding(self) -> dict[str, Any]:
        """Softmax of the scores within each group (``Example.group``); its top candidate is ``positive``."""
        return {"kind": "label", "scores": "group_softmax", "choose": "group_top", "positive": self.positive}

    def export_hf(self) -> HuggingFaceHead:
        """Refused: a Hugging Face classifier scores each pair alone, not within its group."""
        raise ConfigurationError(
            "the ranking head turns its scores into a softmax over each group of candidates; a "
            "Hugging Face sequence classifier scores every pair alone, so its predictions would differ",
            hint="export it with --format onnx (its runtime does the group softmax)",
        )

    reads_tokens = False
    soft_targets = "group"

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """``KL(teacher || student)`` of the softmax over each group's candidates, averaged over groups."""
        groups = (batch.groups if batch.groups is not None else _groups(output)).to(output.logits.device)
        log_q = group_log_softmax(output.logits.reshape(-1) / temperature, groups)
        log_p = group_log_softmax(teacher.to(output.logits.device).detach().reshape(-1) / temperature, groups)
        return _per_group_mean(log_p.exp() * (log_p - log_q), groups)

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Symmetric KL between the two softmax distributions over each group's candidates.

        The divergence of every group is averaged; a pair without a group is a group of its own,
        whose distribution is always certain (divergence 0).
        """
        groups = batch.groups if batch.groups is not None else _groups(a)
        groups = groups.to(a.logits.device)
        log_p = group_log_softmax(a.logits.reshape(-1), groups)
        log_q = group_log_softmax(b.logits.reshape(-1), groups)
        return _per_group_mean((log_p.exp() - log_q.exp()) * (log_p - log_q), groups)


def _per_group_mean(terms: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """The sum of ``terms`` within each group, averaged over the groups."""
    _, inverse = torch.unique(groups, return_inverse=True)
    per_group = torch.zeros(int(inverse.max()) + 1, device=terms.device).index_add(0, inverse, terms)
    return per_group.mean()


def _groups(output: HeadOutput) -> torch.Tensor:
    groups = output.groups if isinstance(output, RankingOutput) else None
    if groups is None:
        return torch.arange(output.logits.shape[0], device=output.logits.device)
    return groups
