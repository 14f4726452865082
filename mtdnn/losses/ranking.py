"""Softmax cross-entropy over each query's candidates (MT-DNN's pairwise ranking objective)."""

from __future__ import annotations

import torch

from mtdnn.functional import group_log_softmax
from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

__all__ = ["RankingCrossEntropyLoss"]


class RankingCrossEntropyLoss(Loss):
    """Negative log-likelihood of the relevant candidates under a softmax over each group's scores.

    For every group ``g`` of the batch with at least one relevant candidate the loss is
    ``-log sum_{i in g, relevant} softmax_g(score)_i`` (for one relevant candidate, the NLL of
    that candidate: the MT-DNN paper's QNLI objective); the batch loss is the mean over those
    groups. Groups without a relevant candidate contribute nothing. Scores come from the
    ``ranking`` head, already scaled by its ``gamma``; groups come from the batch, so batches
    must hold whole groups (a partial group is a smaller, still valid softmax).

    Args:
        positive: Label id of a relevant candidate; the same id as the head's ``positive``.
    """

    def __init__(self, *, positive: int = 0) -> None:
        self.positive = positive

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """Mean over the batch's groups that have a relevant candidate."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        scores = output.logits.float().reshape(-1)
        groups = batch.groups
        if groups is None:
            raise ValueError(
                f"task {batch.task!r}: ranking_ce needs grouped examples (Example.group), "
                "e.g. the candidate answers of one question"
            )
        groups = groups.to(scores.device)
        log_probs = group_log_softmax(scores, groups)
        relevant = batch.labels.to(scores.device).reshape(-1) == self.positive
        _, inverse = torch.unique(groups, return_inverse=True)
        size = int(inverse.max()) + 1
        masked = log_probs.masked_fill(~relevant, float("-inf"))
        peak = torch.full((size,), float("-inf"), device=scores.device).scatter_reduce(
            0, inverse, masked.detach(), reduce="amax"
        )
        has_relevant = torch.isfinite(peak)
        if not bool(has_relevant.any()):
            return scores.sum() * 0.0  # nothing to learn from, but keep the graph
        safe_peak = torch.where(has_relevant, peak, torch.zeros_like(peak))
        shifted = (masked - safe_peak[inverse]).exp()
        mass = torch.zeros(size, device=scores.device).index_add(0, inverse, shifted)
        log_relevant = safe_peak + mass.clamp(min=1e-30).log()
        return -log_relevant[has_relevant].mean()
