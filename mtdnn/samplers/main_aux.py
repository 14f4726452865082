"""The original mt-dnn's main-task sampler: all main-task batches plus a ratio of auxiliary ones."""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Mapping

from mtdnn.errors import ConfigurationError
from mtdnn.samplers.base import TaskSampler, derive_seed

__all__ = ["MainAuxSampler", "apportion"]


class MainAuxSampler(TaskSampler):
    """Trains every batch of a main task once per epoch, plus auxiliary-task batches in a fixed ratio.

    The auxiliary tasks (all other tasks with training data) contribute
    ``round(ratio * main batches)`` batches per epoch in total, split between them in proportion
    to their batch counts (largest remainder, so the counts are exact). Unlike mt-dnn, the total
    is not capped at the auxiliary tasks' size: a task asked for more batches than it has is
    reshuffled and continued.

    Args:
        main: Name of the main task (a task with a ``train`` file).
        ratio: Auxiliary batches per main-task batch (at least 0).
        main_last: Put all auxiliary batches first (shuffled) and the main task's batches last,
            as mt-dnn's ``mix_opt`` does; by default all batches are shuffled together.
    """

    def __init__(self, main: str, *, ratio: float = 1.0, main_last: bool = False) -> None:
        if ratio < 0:
            raise ConfigurationError(f"ratio must be at least 0, got {ratio}", path="ratio")
        self.main, self.ratio, self.main_last = main, ratio, main_last

    def aux_counts(self, batch_counts: Mapping[str, int]) -> dict[str, int]:
        """The number of batches each auxiliary task contributes to one epoch.

        Raises:
            ConfigurationError: ``main`` is not among the tasks with training data.
        """
        if self.main not in batch_counts:
            choices = sorted(batch_counts)
            close = difflib.get_close_matches(self.main, choices, n=1)
            suggestion = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigurationError(
                f"main task {self.main!r} is not a task with training data",
                path="sampler.main",
                hint=f"{suggestion}tasks with a 'train' file: {', '.join(choices) or '(none)'}",
            )
        total = math.floor(self.ratio * batch_counts[self.main] + 0.5)
        return apportion(total, {t: c for t, c in batch_counts.items() if t != self.main and c > 0})

    def plan(
        self, batch_counts: Mapping[str, int], *, epoch: int, seed: int, total_epochs: int | None = None
    ) -> list[str]:
        """The main task's batches and the auxiliary batches, shuffled with a seeded generator."""
        aux = [task for task, count in sorted(self.aux_counts(batch_counts).items()) for _ in range(count)]
        main = [self.main] * batch_counts[self.main]
        generator = random.Random(derive_seed("main_aux", seed, epoch))
        if self.main_last:
            generator.shuffle(aux)
            return aux + main
        names = aux + main
        generator.shuffle(names)
        return names


def apportion(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``sizes`` that add up to ``total`` exactly.

    Each key gets the floor of its exact share; the remaining units go to the largest
    remainders, ties to the name that sorts first (Hamilton's method).
    """
    whole = sum(sizes.values())
    if whole <= 0 or total <= 0:
        return {name: 0 for name in sizes}
    shares = {name: divmod(total * size, whole) for name, size in sizes.items()}
    counts = {name: quotient for name, (quotient, _) in shares.items()}
    by_remainder = sorted(shares, key=lambda name: (-shares[name][1], name))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts
