"""The task-sampler interface: which task the next mini-batch comes from."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["TaskSampler", "derive_seed", "plan_lengths"]


class TaskSampler:
    """Decides the order in which the tasks' mini-batches are trained within an epoch.

    A plan must depend only on its arguments and the sampler's state, so every data-parallel
    rank computes the same plan and a resumed run repeats it exactly. A plan may name a task more
    often than it has batches: the trainer then continues that task with a fresh shuffle of its
    data (see ``mtdnn.data.streams``).
    """

    def plan(
        self, batch_counts: Mapping[str, int], *, epoch: int, seed: int, total_epochs: int | None = None
    ) -> list[str]:
        """Return the task name of every step of one epoch.

        Args:
            batch_counts: Number of training batches each task has in one pass over its data.
            epoch: The 0-based epoch.
            seed: The experiment's seed.
            total_epochs: Number of epochs of the run, for samplers that change over the run
                (``None`` when unknown).
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint (JSON-like values only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


def derive_seed(*parts: int | str) -> int:
    """A 63-bit seed that depends only on ``parts``, the same in every process and Python run.

    Unlike ``hash()``, which Python salts per process for strings, this is stable, so every
    data-parallel rank and a resumed run derive the same generator.
    """
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def plan_lengths(
    sampler: TaskSampler, batch_counts: Sequence[Mapping[str, int]], *, seed: int, epochs: int
) -> list[int]:
    """The number of steps of each epoch's plan, leaving the sampler's state as it was.

    Args:
        sampler: The run's sampler.
        batch_counts: For each epoch, the number of training batches each task has in one pass
            over its data (it may differ between epochs when batches keep groups whole).
        seed: The experiment's seed.
        epochs: Number of epochs of the run.

    Raises:
        ValueError: ``batch_counts`` does not have one entry per epoch.
    """
    if len(batch_counts) != epochs:
        raise ValueError(f"got batch counts of {len(batch_counts)} epochs for {epochs} epochs")
    saved = copy.deepcopy(sampler.state_dict())
    try:
        return [
            len(sampler.plan(counts, epoch=epoch, seed=seed, total_epochs=epochs))
            for epoch, counts in enumerate(batch_counts)
        ]
    finally:
        sampler.load_state_dict(saved)
