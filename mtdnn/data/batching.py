"""Length-bucketed mini-batches with dynamic padding."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mtdnn.data.dataset import TaskData
from mtdnn.encoders.base import Encoder
from mtdnn.types import TaskBatch

__all__ = ["batch_indices", "make_batch"]


def batch_indices(
    lengths: Sequence[int], batch_size: int, *, generator: torch.Generator | None = None, pool: int = 50
) -> list[list[int]]:
    """Group example indices into batches of similar length.

    With a generator (training), examples are shuffled, cut into pools of ``pool`` batches,
    sorted by length inside each pool, batched, and the batches are shuffled, so padding stays
    small while the order stays random. Without one (evaluation), examples are sorted by length.

    Args:
        lengths: Token length of each example.
        batch_size: Examples per batch (the last batch may be smaller).
        generator: Source of randomness; ``None`` for a deterministic, sorted order.
        pool: Batches per sorting pool.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if generator is None:
        order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    shuffled = torch.randperm(len(lengths), generator=generator).tolist()
    size = batch_size * pool
    batches: list[list[int]] = []
    for start in range(0, len(shuffled), size):
        chunk = sorted(shuffled[start : start + size], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def make_batch(data: TaskData, indices: Sequence[int], encoder: Encoder) -> TaskBatch:
    """Collate the examples at ``indices`` into a padded :class:`TaskBatch`."""
    inputs = encoder.collate([data.features[i] for i in indices])
    labels = None
    if data.targets is not None:
        values = [data.targets[i] for i in indices]
        dtype = torch.float32 if any(isinstance(v, float) for v in values) else torch.long
        labels = torch.tensor(values, dtype=dtype)
    return TaskBatch(task=data.task, inputs=inputs, labels=labels, ids=tuple(data.examples[i].id for i in indices))
