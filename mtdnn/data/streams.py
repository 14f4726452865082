"""Each task's training batches of an epoch as an endless, seeded sequence."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from mtdnn.data.batching import batch_indices
from mtdnn.data.dataset import TaskData

__all__ = ["BatchStream", "batch_counts", "epoch_streams"]

Share = Callable[[list[list[int]]], list[list[int]]]

_ROUND_STRIDE = 15_485_863  # a prime: seeds of later rounds stay clear of other tasks' and epochs'


class BatchStream:
    """One task's batches for one epoch, continued with a fresh shuffle whenever they run out.

    Round 0 is the task's usual batch order for the epoch (its examples shuffled with a generator
    seeded by ``seed``); round ``r`` reshuffles with seed ``seed + r * 15485863``. The batch at
    each index is therefore a pure function of the arguments and the index, so a resumed run
    that replays its cursors gets the same batches. Only the current round is kept in memory.

    Args:
        lengths: Token length of each example of the task.
        batch_size: Examples per batch.
        seed: Seed of round 0 (derived by the trainer from the experiment's seed, the epoch and
            the task).
        share: Picks this data-parallel rank's batches from a round (identity for one process).
        groups: Group id of each example: a group (the candidates of one query) is never split
            across batches. Rounds may then differ in their number of batches.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        seed: int,
        share: Share | None = None,
        groups: Sequence[int] | None = None,
    ) -> None:
        self.lengths, self.batch_size, self.seed, self.share = lengths, batch_size, seed, share
        self.groups = groups
        self.round, self.start = 0, 0  # the current round and the stream index of its first batch
        self.batches = self._make_round(0)
        if not self.batches:
            raise ValueError("a batch stream needs at least one example")
        self.pass_length = len(self.batches)
        """Batches in round 0: one pass over this rank's share of the data."""

    def __len__(self) -> int:
        """Batches in the current round (one pass over this rank's share of the data)."""
        return len(self.batches)

    def __getitem__(self, index: int) -> list[int]:
        """The example indices of the batch at ``index`` (any index >= 0)."""
        if index < 0:
            raise IndexError(f"batch index must be non-negative, got {index}")
        if index < self.start:  # only after a rewind: replay the rounds from the start
            self.round, self.start, self.batches = 0, 0, self._make_round(0)
        while index >= self.start + len(self.batches):
            self.start += len(self.batches)
            self.round += 1
            self.batches = self._make_round(self.round)
        return self.batches[index - self.start]

    def _make_round(self, round_: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed((self.seed + round_ * _ROUND_STRIDE) % (1 << 64))
        batches = batch_indices(self.lengths, self.batch_size, generator=generator, groups=self.groups)
        return self.share(batches) if self.share is not None else batches


def epoch_streams(
    train_data: Mapping[str, TaskData],
    batch_sizes: Mapping[str, int],
    *,
    seed: int,
    epoch: int,
    share: Share | None = None,
) -> dict[str, BatchStream]:
    """Every task's batch stream for one epoch.

    The ``k``-th task in name order starts from seed ``seed * 7919 + epoch * 104729 + k``.

    Args:
        train_data: Training data per task.
        batch_sizes: Examples per batch, per task.
        seed: The experiment's seed.
        epoch: The 0-based epoch.
        share: Picks this data-parallel rank's batches from a round.
    """
    return {
        name: BatchStream(
            data.lengths,
            batch_sizes[name],
            seed=seed * 7919 + epoch * 104729 + number,
            share=share,
            groups=data.groups,
        )
        for number, (name, data) in enumerate(sorted(train_data.items()))
    }


def batch_counts(streams: Mapping[str, BatchStream]) -> dict[str, int]:
    """The batches each task's stream has in one pass over its data (round 0): what samplers plan with.

    These are counted from the batches themselves, so they hold when batches keep groups whole
    (ranking candidates), where ``ceil(examples / batch_size)`` would be too few.
    """
    return {name: stream.pass_length for name, stream in streams.items()}
