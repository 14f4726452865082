"""The hook that registers the built-in samplers.

``mtdnn.samplers`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in samplers."""
    from mtdnn.samplers import (
        AnnealedSampler,
        MainAuxSampler,
        ProportionalSampler,
        ShuffleAllSampler,
        TaskSampler,
        TemperatureSampler,
        UniformSampler,
    )

    registry.add(TaskSampler, "shuffle_all", ShuffleAllSampler)
    registry.add(TaskSampler, "uniform", UniformSampler)
    registry.add(TaskSampler, "proportional", ProportionalSampler)
    registry.add(TaskSampler, "temperature", TemperatureSampler)
    registry.add(TaskSampler, "annealed", AnnealedSampler)
    registry.add(TaskSampler, "main_aux", MainAuxSampler)
