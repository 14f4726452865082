"""Algorithm 1's sampler: every batch of every task once per epoch, in a seeded shuffled order."""

from __future__ import annotations

from collections import Counter

from mtdnn.config import build
from mtdnn.registry import Registry
from mtdnn.samplers import ShuffleAllSampler, TaskSampler


def test_every_batch_of_every_task_appears_once_per_epoch(registry: Registry) -> None:
    sampler = build(registry, TaskSampler, "shuffle_all", path="sampler")
    assert isinstance(sampler, ShuffleAllSampler)
    counts = {"rte": 3, "sst2": 10, "mrpc": 5}
    plan = sampler.plan(counts, epoch=0, seed=1)
    assert Counter(plan) == counts
    assert plan != sorted(plan)  # interleaved, not task after task


def test_plans_are_deterministic_per_seed_and_epoch_and_differ_between_epochs() -> None:
    sampler = ShuffleAllSampler()
    counts = {"a": 20, "b": 20}
    assert sampler.plan(counts, epoch=0, seed=3) == ShuffleAllSampler().plan(counts, epoch=0, seed=3)
    assert sampler.plan(counts, epoch=0, seed=3) != sampler.plan(counts, epoch=1, seed=3)
    assert sampler.plan(counts, epoch=0, seed=3) != sampler.plan(counts, epoch=0, seed=4)
    assert sampler.plan(dict(reversed(counts.items())), epoch=0, seed=3) == sampler.plan(
        counts, epoch=0, seed=3
    )
