"""Training objectives."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.losses.base import Loss
from mtdnn.losses.cross_entropy import CrossEntropyLoss
from mtdnn.registry import Registry

__all__ = ["CrossEntropyLoss", "Loss"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in losses."""
    registry.add(Loss, "cross_entropy", CrossEntropyLoss)
