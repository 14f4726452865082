"""Task samplers: which task the next mini-batch comes from."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry
from mtdnn.samplers.base import TaskSampler, derive_seed, plan_lengths
from mtdnn.samplers.main_aux import MainAuxSampler
from mtdnn.samplers.shuffle_all import ShuffleAllSampler
from mtdnn.samplers.weighted import (
    AnnealedSampler,
    ProportionalSampler,
    TemperatureSampler,
    UniformSampler,
    WeightedSampler,
)

__all__ = [
    "AnnealedSampler",
    "MainAuxSampler",
    "ProportionalSampler",
    "ShuffleAllSampler",
    "TaskSampler",
    "TemperatureSampler",
    "UniformSampler",
    "WeightedSampler",
    "derive_seed",
    "plan_lengths",
]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in samplers."""
    registry.add(TaskSampler, "shuffle_all", ShuffleAllSampler)
    registry.add(TaskSampler, "uniform", UniformSampler)
    registry.add(TaskSampler, "proportional", ProportionalSampler)
    registry.add(TaskSampler, "temperature", TemperatureSampler)
    registry.add(TaskSampler, "annealed", AnnealedSampler)
    registry.add(TaskSampler, "main_aux", MainAuxSampler)
