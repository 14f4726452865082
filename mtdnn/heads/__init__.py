"""Task-specific heads on top of the shared encoder."""

from __future__ import annotations

from mtdnn.heads.base import Head
from mtdnn.heads.classification import ClassificationHead
from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry

__all__ = ["ClassificationHead", "Head"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in heads."""
    registry.add(Head, "classification", ClassificationHead)
