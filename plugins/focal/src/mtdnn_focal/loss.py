"""The `focal` loss: focal loss (Lin et al. 2017), which down-weights examples already classified well."""

from __future__ import annotations

import torch

from mtdnn.errors import ConfigurationError
from mtdnn.losses.base import Loss
from mtdnn.types import HeadOutput, TaskBatch

IGNORED = -1  # the label of padding words in token-level batches


class FocalLoss(Loss):
    """Focal loss: each example's (or word's) cross-entropy times ``(1 - p)^gamma`` (``p``: gold probability).

    With ``gamma: 0`` (and no ``alpha``) it is the cross-entropy. Larger values shrink the loss
    of examples the model already gets right with confidence, so training spends itself on the
    hard ones: useful for imbalanced classes (a rare class, or ``O`` against entity tags).
    Works for one label per example (``classification``, ``san``: logits ``[B, C]``) and per
    word (``tagging``: logits ``[B, W, C]``, labels -1 on padding words, which are left out).
    The loss is the mean over the labelled examples (or words), in float32.

    Args:
        gamma: The focusing exponent (2 in the paper; 0 is the cross-entropy).
        alpha: A weight per class (in label-id order), multiplying each example's loss by its
            gold class's weight (the paper's alpha-balancing); ``None`` weighs all alike.
    """

    def __init__(self, *, gamma: float = 2.0, alpha: list[float] | None = None) -> None:
        if gamma < 0:
            raise ConfigurationError(f"gamma must not be negative, got {gamma}", path="gamma")
        if alpha is not None and (not alpha or any(weight < 0 for weight in alpha)):
            message = f"alpha must be non-negative weights, one per class, got {alpha}"
            raise ConfigurationError(message, path="alpha")
        self.gamma = gamma
        self.alpha = alpha

    def __call__(self, output: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """The mean focal loss over the batch's labelled examples (or words)."""
        if batch.labels is None:
            raise ValueError(f"task {batch.task!r}: a batch without labels cannot be trained on")
        logits = output.logits.float()
        classes = logits.shape[-1]
        logits, labels = logits.reshape(-1, classes), batch.labels.reshape(-1).long().to(logits.device)
        kept = labels != IGNORED
        logits, labels = logits[kept], labels[kept]
        if labels.numel() == 0:
            return logits.sum() * 0.0  # nothing labelled: a zero that keeps the graph
        log_p = torch.log_softmax(logits, dim=-1).gather(1, labels.unsqueeze(1)).squeeze(1)
        loss = -((1 - log_p.exp()) ** self.gamma) * log_p
        if self.alpha is not None:
            if len(self.alpha) != classes:
                raise ConfigurationError(
                    f"alpha has {len(self.alpha)} weights for {classes} classes",
                    path=f"tasks.{batch.task}.loss.alpha",
                )
            loss = loss * torch.tensor(self.alpha, device=loss.device)[labels]
        return loss.mean()
