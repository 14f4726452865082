"""Task samplers: which task the next mini-batch comes from."""

from __future__ import annotations

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
