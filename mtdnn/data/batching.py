"""Length-bucketed mini-batches with dynamic padding."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mtdnn.data.dataset import TaskData
from mtdnn.encoders.base import Encoder
from mtdnn.types import TaskBatch

__all__ = ["batch_indices", "make_batch", "pad_rows"]


def batch_indices(
    lengths: Sequence[int],
    batch_size: int,
    *,
    generator: torch.Generator | None = None,
    pool: int = 50,
    groups: Sequence[int] | None = None,
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
        groups: Group id of each example (e.g. :attr:`TaskData.groups`). Each group then stays
            whole in one batch: groups, not examples, are shuffled and sorted (by their longest
            member) and packed into batches of at most ``batch_size`` examples; a group larger
            than ``batch_size`` becomes a batch of its own.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if groups is not None:
        return _group_batches(lengths, batch_size, groups, generator=generator, pool=pool)
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


def _group_batches(
    lengths: Sequence[int],
    batch_size: int,
    groups: Sequence[int],
    *,
    generator: torch.Generator | None,
    pool: int,
) -> list[list[int]]:
    """Batches that keep every group whole (see :func:`batch_indices`)."""
    if len(groups) != len(lengths):
        raise ValueError(f"got {len(groups)} group ids for {len(lengths)} examples")
    members: dict[int, list[int]] = {}
    for index, group in enumerate(groups):
        members.setdefault(group, []).append(index)
    units = list(members.values())

    def longest(unit: list[int]) -> int:
        return max(lengths[i] for i in unit)

    if generator is None:
        return _pack(sorted(units, key=lambda unit: (longest(unit), unit[0])), batch_size)
    shuffled = [units[i] for i in torch.randperm(len(units), generator=generator).tolist()]
    batches: list[list[int]] = []
    examples_per_pool = batch_size * pool
    start = 0
    while start < len(shuffled):
        end, count = start, 0
        while end < len(shuffled) and count < examples_per_pool:
            count += len(shuffled[end])
            end += 1
        batches.extend(_pack(sorted(shuffled[start:end], key=longest), batch_size))
        start = end
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def _pack(units: Sequence[list[int]], batch_size: int) -> list[list[int]]:
    """Fill batches with whole units in the given order, starting a new batch when one is full."""
    batches: list[list[int]] = []
    current: list[int] = []
    for unit in units:
        if current and len(current) + len(unit) > batch_size:
            batches.append(current)
            current = []
        current = current + unit
    if current:
        batches.append(current)
    return batches


def make_batch(data: TaskData, indices: Sequence[int], encoder: Encoder) -> TaskBatch:
    """Collate the rows at ``indices`` into a padded :class:`TaskBatch`.

    Labels become a ``long`` tensor of label ids, or a ``float32`` one for real values (``[B]``)
    and multi-hot vectors (``[B, C]``); with ``label_padding`` (token-level tasks) a ``long``
    ``[B, L]`` tensor padded with that value. Grouped data gets ``groups``, the batch's group ids;
    data with ``extras`` gets them as ``long`` tensors padded with -1.
    """
    inputs = encoder.collate([data.features[i] for i in indices])
    labels = None
    if data.targets is not None:
        values = [data.targets[i] for i in indices]
        if data.label_padding is not None:
            labels = pad_rows(values, data.label_padding)  # type: ignore[arg-type]
        else:
            floats = any(isinstance(v, float | tuple) for v in values)
            labels = torch.tensor(values, dtype=torch.float32 if floats else torch.long)
    extras: dict[str, torch.Tensor] = {}
    if data.extras is not None:
        rows = [data.extras[i] for i in indices]
        extras = {key: pad_rows([row[key] for row in rows], -1) for key in rows[0]}
    all_groups = data.groups
    groups = None if all_groups is None else torch.tensor([all_groups[i] for i in indices], dtype=torch.long)
    return TaskBatch(
        task=data.task,
        inputs=inputs,
        labels=labels,
        ids=tuple(data.row_id(i) for i in indices),
        groups=groups,
        extras=extras,
    )


def pad_rows(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """Stack integer sequences into a ``long`` ``[B, L]`` tensor, padding on the right with ``value``."""
    longest = max((len(row) for row in rows), default=0)
    return torch.tensor([[*row, *[value] * (longest - len(row))] for row in rows], dtype=torch.long)
