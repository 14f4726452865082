"""Metrics that rank: ROC AUC of binary scores and top-1 accuracy of grouped candidates."""

from __future__ import annotations

import torch

from mtdnn.metrics.base import Metric
from mtdnn.metrics.regression import average_ranks

__all__ = ["RankingAccuracy", "RocAuc"]


class RocAuc(Metric):
    """Area under the ROC curve of the positive class's probability, reported as ``auc``.

    Computed exactly by the rank-sum (Mann-Whitney) formula, ties counting one half. It needs
    ``scores`` (the evaluation passes every head's class probabilities). The score is 0.0 when
    it is undefined (nothing accumulated, or only one class among the targets).

    Args:
        positive: The class id whose probability is the score and whose targets are positive.
    """

    def __init__(self, *, positive: int = 1) -> None:
        super().__init__()
        self.positive = positive

    def compute(self) -> dict[str, float]:
        """Return ``{"auc": area}`` in ``[0, 1]``."""
        _, targets = self.gathered()
        if targets.numel() == 0:
            return {"auc": 0.0}
        scores = _positive_scores(self, self.positive)
        gold = targets.reshape(-1).long() == self.positive
        positives, negatives = int(gold.sum()), int((~gold).sum())
        if positives == 0 or negatives == 0:
            return {"auc": 0.0}
        rank_sum = float(average_ranks(scores)[gold].sum())
        return {"auc": (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)}


class RankingAccuracy(Metric):
    """Fraction of groups whose top-scored candidate is relevant, reported as ``ranking_accuracy``.

    Needs ``groups`` (the evaluation passes the examples' groups) and ranks the candidates of
    each group by ``scores`` (the probability of ``positive``), or, without scores, takes the
    candidate predicted ``positive``. Groups without a relevant candidate are left out (no
    choice could be right); with no group left the score is 0.0.

    Args:
        positive: Label id of a relevant candidate; the same id as the ``ranking`` head's.
    """

    def __init__(self, *, positive: int = 0) -> None:
        super().__init__()
        self.positive = positive

    def compute(self) -> dict[str, float]:
        """Return ``{"ranking_accuracy": correct_groups / groups}``."""
        predictions, targets = self.gathered()
        if targets.numel() == 0:
            return {"ranking_accuracy": 0.0}
        groups = self.gathered_groups()
        if groups is None or groups.numel() != targets.numel():
            raise ValueError(
                "ranking_accuracy needs the group of every example: use it on a task whose "
                "examples have groups (Example.group)"
            )
        if self.gathered_scores() is not None:
            scores = _positive_scores(self, self.positive)
        else:
            scores = (predictions.reshape(-1) == self.positive).double()
        relevant = targets.reshape(-1).long() == self.positive
        correct = total = 0
        for group in torch.unique(groups).tolist():
            members = groups == group
            if not bool(relevant[members].any()):
                continue
            total += 1
            top = int(scores[members].argmax())
            correct += int(bool(relevant[members][top]))
        return {"ranking_accuracy": correct / total if total else 0.0}


def _positive_scores(metric: Metric, positive: int) -> torch.Tensor:
    """The score of class ``positive`` per example, from the stored ``scores``."""
    scores = metric.gathered_scores()
    if scores is None:
        raise ValueError(f"{type(metric).__name__} needs scores (class probabilities) passed to update()")
    if scores.dim() == 2 and scores.shape[1] > 1:
        return scores[:, positive].double()
    return scores.reshape(-1).double()
