"""Perturbations of word embeddings: norms, projection onto a ball, noise, gradients, replayed dropout.

Every function takes the batch's ``mask`` (``[B, T]``, true for real tokens): padding positions
never carry a perturbation and never count in a norm or a mean.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch

from mtdnn.model import Perturbation

__all__ = [
    "DropoutReplay",
    "Granularity",
    "Norm",
    "gradient",
    "masked_rms",
    "norm_of",
    "normalize",
    "project",
    "shift",
    "token_mask",
]

Norm = Literal["inf", "l2"]
"""How a perturbation's size is measured: the largest absolute element, or the Euclidean length."""

Granularity = Literal["token", "sequence"]
"""Over what a norm runs: each token's vector ``[E]``, or each example's ``[T, E]``."""

_TINY = 1e-12


def token_mask(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The real tokens of a batch ``[B, T]`` (bool), from its ``attention_mask`` (all tokens without one)."""
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    return torch.ones_like(ids, dtype=torch.bool) if mask is None else mask.bool()


def _dims(granularity: Granularity) -> tuple[int, ...]:
    return (-1,) if granularity == "token" else (-2, -1)


def norm_of(delta: torch.Tensor, mask: torch.Tensor, *, norm: Norm, granularity: Granularity) -> torch.Tensor:
    """The norm of each token's (``token``) or example's (``sequence``) part of ``delta``, kept broadcastable.

    Args:
        delta: ``[B, T, E]``.
        mask: ``[B, T]`` real tokens; padding counts as zero.

    Returns:
        ``[B, T, 1]`` or ``[B, 1, 1]``, float32.
    """
    masked = delta.float() * mask.unsqueeze(-1)
    if norm == "inf":
        return masked.abs().amax(dim=_dims(granularity), keepdim=True)
    return masked.pow(2).sum(dim=_dims(granularity), keepdim=True).sqrt()


def normalize(
    delta: torch.Tensor, mask: torch.Tensor, *, norm: Norm, granularity: Granularity
) -> torch.Tensor:
    """``delta`` divided by its norm per token or example (norm 1; a zero part stays zero); padding zeroed."""
    size = norm_of(delta, mask, norm=norm, granularity=granularity).clamp_min(_TINY)
    return delta.float() / size * mask.unsqueeze(-1)


def project(
    delta: torch.Tensor, mask: torch.Tensor, *, radius: float, norm: Norm, granularity: Granularity
) -> torch.Tensor:
    """The nearest point to ``delta`` in the ball of ``radius`` (per token or example); padding zeroed.

    In the ``inf`` norm every element is clipped to ``[-radius, radius]``, whatever the
    granularity; in ``l2`` a part longer than ``radius`` is scaled down to it.
    """
    if norm == "inf":
        return delta.float().clamp(-radius, radius) * mask.unsqueeze(-1)
    size = norm_of(delta, mask, norm=norm, granularity=granularity)
    return delta.float() * (radius / size.clamp_min(_TINY)).clamp(max=1.0) * mask.unsqueeze(-1)


def shift(delta: torch.Tensor) -> Perturbation:
    """The perturbation that adds ``delta`` ``[B, T, E]`` to the word embeddings (in their dtype)."""
    return lambda embeddings: embeddings + delta.to(embeddings.dtype)


def masked_rms(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Root mean square of the real tokens' elements of ``values`` ``[B, T, E]`` (a float32 scalar)."""
    selected = values.detach().float()[mask]
    return selected.pow(2).mean().sqrt() if selected.numel() else selected.sum()


def gradient(value: torch.Tensor, tensor: torch.Tensor, *, retain_graph: bool = False) -> torch.Tensor:
    """``d value / d tensor``, without touching any parameter's ``.grad``, outside autocast.

    A ``tensor`` that ``value`` does not depend on gets a zero gradient; non-finite entries (an
    fp16 overflow) become zero, so they cannot poison a perturbation.
    """
    with torch.autocast(tensor.device.type, enabled=False):
        (grad,) = torch.autograd.grad(value, tensor, retain_graph=retain_graph, allow_unused=True)
    if grad is None:
        return torch.zeros_like(tensor)
    return grad.nan_to_num(0.0, posinf=0.0, neginf=0.0)


class DropoutReplay:
    """Replays the random numbers (dropout masks) of a forward pass in later passes.

    Created just before a forward pass, it remembers the random-number state; inside
    :meth:`replay` a pass draws the same numbers, so a pass over the same shapes gets the
    same dropout masks, and afterwards the state is where it was, as if nothing had run.

    Args:
        device: The device whose generator the passes use (the CPU generator is always kept).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._state = self._get()

    def _get(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        cuda = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return torch.get_rng_state(), cuda

    def _set(self, state: tuple[torch.Tensor, torch.Tensor | None]) -> None:
        torch.set_rng_state(state[0])
        if state[1] is not None:
            torch.cuda.set_rng_state(state[1], self.device)

    @contextlib.contextmanager
    def replay(self) -> Iterator[None]:
        """Run the enclosed pass with the remembered random numbers, then restore the current ones."""
        now = self._get()
        self._set(self._state)
        try:
            yield
        finally:
            self._set(now)
