"""The task-sampler interface: which task the next mini-batch comes from."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
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
    sampler: TaskSampler, batch_counts: Mapping[str, int], *, seed: int, epochs: int
) -> list[int]:
    """The number of steps of each epoch's plan, leaving the sampler's state as it was.

    Args:
        sampler: The run's sampler.
        batch_counts: Number of training batches each task has in one pass over its data.
        seed: The experiment's seed.
        epochs: Number of epochs of the run.
    """
    saved = copy.deepcopy(sampler.state_dict())
    try:
        return [
            len(sampler.plan(batch_counts, epoch=epoch, seed=seed, total_epochs=epochs))
            for epoch in range(epochs)
        ]
    finally:
        sampler.load_state_dict(saved)
