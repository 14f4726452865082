"""Task samplers: which task the next mini-batch comes from."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry
from mtdnn.samplers.base import TaskSampler
from mtdnn.samplers.shuffle_all import ShuffleAllSampler

__all__ = ["ShuffleAllSampler", "TaskSampler"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in samplers."""
    registry.add(TaskSampler, "shuffle_all", ShuffleAllSampler)
