"""The task-sampler interface: which task the next mini-batch comes from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["TaskSampler"]


class TaskSampler:
    """Decides the order in which the tasks' mini-batches are trained within an epoch.

    A plan must depend only on its arguments and the sampler's state, so every data-parallel
    rank computes the same plan and a resumed run repeats it exactly.
    """

    def plan(self, batch_counts: Mapping[str, int], *, epoch: int, seed: int) -> list[str]:
        """Return the task name of every step of one epoch.

        Args:
            batch_counts: Number of training batches each task has in one pass over its data.
            epoch: The 0-based epoch.
            seed: The experiment's seed.
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """State to checkpoint (JSON-like values only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
