"""Tensor functions and constants that heads, losses and objectives share.

This module sits below ``heads/``, ``losses/`` and ``training/``: it imports none of them, so
each of those may use it without importing the others. Every function computes in float32,
whatever the dtype of its inputs (autocast runs heads in bf16 or fp16).
"""

from __future__ import annotations

import contextlib

import torch
from torch.nn import functional

__all__ = [
    "IGNORED",
    "bernoulli_kl",
    "group_log_softmax",
    "group_softmax",
    "group_top",
    "masked_mean",
    "squared_error",
    "symmetric_kl",
    "teacher_bernoulli_kl",
    "teacher_kl",
]

IGNORED = -1
"""A target that takes no part in a loss: the padding of token-level labels, an untrainable span."""


def group_log_softmax(scores: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Log-softmax of ``scores [B]`` within each group of ``groups [B]`` (any integer ids), in float32."""
    scores = scores.float()
    _, inverse = torch.unique(groups, return_inverse=True)
    size = int(inverse.max()) + 1 if inverse.numel() else 0
    peak = torch.full((size,), float("-inf"), device=scores.device)
    peak = peak.scatter_reduce(0, inverse, scores.detach(), reduce="amax")
    shifted = scores - peak[inverse]
    total = torch.zeros(size, device=scores.device).index_add(0, inverse, shifted.exp())
    return shifted - total.log()[inverse]


def group_softmax(scores: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Softmax of ``scores [B]`` within each group of ``groups [B]``, in float32."""
    return group_log_softmax(scores, groups).exp()


def group_top(scores: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Mark the highest score of each group ``[B]`` (bool; the first one on ties)."""
    _, inverse = torch.unique(groups, return_inverse=True)
    size = int(inverse.max()) + 1 if inverse.numel() else 0
    scores = scores.float()
    peak = torch.full((size,), float("-inf"), device=scores.device).scatter_reduce(
        0, inverse, scores, reduce="amax"
    )
    positions = torch.arange(scores.numel(), device=scores.device)
    candidates = torch.where(scores == peak[inverse], positions, scores.numel())
    first = torch.full((size,), scores.numel(), device=scores.device).scatter_reduce(
        0, inverse, candidates, reduce="amin"
    )
    return positions == first[inverse]


def _float32(tensor: torch.Tensor) -> contextlib.AbstractContextManager[object]:
    """Turn autocast off around a computation on ``tensor``'s device (inputs are cast by the caller)."""
    if tensor.device.type in ("cpu", "cuda", "mps", "xpu"):
        return torch.autocast(device_type=tensor.device.type, enabled=False)
    return contextlib.nullcontext()


def masked_mean(values: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The mean of ``values`` where ``mask`` is true (all of them without a mask); 0 when none is.

    The result keeps the graph of ``values`` even when nothing is selected, so a batch without a
    scored position still back-propagates (a zero gradient).
    """
    values = values.float()
    if mask is None:
        return values.mean() if values.numel() else values.sum()
    mask = mask.to(values.device).bool().expand_as(values)
    return values.masked_fill(~mask, 0.0).sum() / mask.sum().clamp(min=1)


def symmetric_kl(
    a: torch.Tensor, b: torch.Tensor, *, dim: int = -1, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``KL(p||q) + KL(q||p)`` of the softmax distributions of two logit tensors, averaged.

    Each distribution runs over ``dim``; the divergence of every distribution is averaged over
    the positions where ``mask`` (the shape of ``a`` without ``dim``) is true. Positions whose
    logits are ``-inf`` in both tensors (excluded classes) contribute nothing.

    Args:
        a: Logits, any shape.
        b: Logits of the same shape.
        dim: The class dimension.
        mask: Which distributions count (all of them by default).

    Returns:
        A float32 scalar, 0 exactly when the distributions are equal.
    """
    if a.shape != b.shape:
        raise ValueError(f"cannot compare logits of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    with _float32(a):
        log_p = torch.log_softmax(a.float(), dim=dim)
        log_q = torch.log_softmax(b.float(), dim=dim)
        difference = (log_p - log_q).nan_to_num(0.0, posinf=0.0, neginf=0.0)  # -inf - -inf
        per_position = ((log_p.exp() - log_q.exp()) * difference).sum(dim=dim)
        return masked_mean(per_position, mask)


def bernoulli_kl(a: torch.Tensor, b: torch.Tensor, *, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric KL between the independent Bernoulli distributions of two sigmoid-logit tensors.

    Every element is one yes/no distribution; their divergences are averaged (over ``mask``).

    Returns:
        A float32 scalar, 0 exactly when the logits give equal probabilities.
    """
    if a.shape != b.shape:
        raise ValueError(f"cannot compare logits of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    with _float32(a):
        a, b = a.float(), b.float()
        # KL(p||q) + KL(q||p) = (p - q) * (logit p - logit q) for Bernoulli p, q
        per_element = (torch.sigmoid(a) - torch.sigmoid(b)) * (a - b)
        return masked_mean(per_element, mask)


def squared_error(a: torch.Tensor, b: torch.Tensor, *, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared difference of two tensors of the same shape, in float32.

    Raises:
        ValueError: The shapes differ (a silent broadcast of ``[B]`` against ``[B, 1]`` would
            compare every row with every other).
    """
    if a.shape != b.shape:
        raise ValueError(f"cannot compare values of shapes {tuple(a.shape)} and {tuple(b.shape)}")
    with _float32(a):
        return masked_mean(functional.mse_loss(a.float(), b.float(), reduction="none"), mask)


def teacher_kl(
    student: torch.Tensor,
    teacher: torch.Tensor,
    *,
    dim: int = -1,
    temperature: float = 1.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """``KL(teacher || student)`` of softmax distributions at ``temperature``, averaged; teacher fixed.

    Each distribution runs over ``dim``; the divergence of every distribution is averaged over
    the positions where ``mask`` (the shape of ``student`` without ``dim``) is true. Classes whose
    teacher logit is ``-inf`` (excluded) contribute nothing. Minimising it moves the student's
    distribution to the teacher's: it is the soft-target cross-entropy less the teacher's
    entropy (the same gradient), so it is 0 exactly when they agree.

    Returns:
        A float32 scalar.
    """
    if student.shape != teacher.shape:
        raise ValueError(f"cannot compare logits of shapes {tuple(student.shape)} and {tuple(teacher.shape)}")
    with _float32(student):
        log_q = torch.log_softmax(student.float() / temperature, dim=dim)
        log_p = torch.log_softmax(teacher.detach().float() / temperature, dim=dim)
        terms = (log_p.exp() * (log_p - log_q)).nan_to_num(0.0, posinf=0.0, neginf=0.0)
        return masked_mean(terms.sum(dim=dim), mask)


def teacher_bernoulli_kl(
    student: torch.Tensor,
    teacher: torch.Tensor,
    *,
    temperature: float = 1.0,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """``KL(teacher || student)`` of independent yes/no distributions (sigmoid logits), averaged.

    Returns:
        A float32 scalar, 0 exactly when the (tempered) probabilities agree.
    """
    if student.shape != teacher.shape:
        raise ValueError(f"cannot compare logits of shapes {tuple(student.shape)} and {tuple(teacher.shape)}")
    with _float32(student):
        s, t = student.float() / temperature, teacher.detach().float() / temperature
        p = torch.sigmoid(t)
        # p log(p/q) + (1-p) log((1-p)/(1-q)) with log q = logsigmoid(s), log(1-q) = logsigmoid(-s)
        terms = p * (functional.logsigmoid(t) - functional.logsigmoid(s)) + (1 - p) * (
            functional.logsigmoid(-t) - functional.logsigmoid(-s)
        )
        return masked_mean(terms, mask)
