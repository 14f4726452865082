"""Samplers that draw the task of every step at random, each with its own task probabilities."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence

from mtdnn.errors import ConfigurationError
from mtdnn.samplers.base import TaskSampler, derive_seed

__all__ = [
    "AnnealedSampler",
    "ProportionalSampler",
    "TemperatureSampler",
    "UniformSampler",
    "WeightedSampler",
]

logger = logging.getLogger(__name__)


class WeightedSampler(TaskSampler):
    """Draws each step's task independently (with replacement) from probabilities over the tasks.

    Subclasses define the task weights. Tasks without batches are never drawn. A task may be drawn
    more often than it has batches in an epoch; the trainer then reshuffles its data and goes on.

    Args:
        steps: Steps per epoch; ``None`` means the total number of batches of all tasks (the
            epoch length of ``shuffle_all``).
    """

    def __init__(self, *, steps: int | None = None) -> None:
        if steps is not None and steps < 1:
            raise ConfigurationError(f"steps must be at least 1 (or null), got {steps}", path="steps")
        self.steps = steps

    def weights(self, counts: Sequence[int], *, epoch: int, total_epochs: int | None) -> list[float]:
        """Unnormalised probabilities of tasks with ``counts`` batches (all positive) in ``epoch``."""
        raise NotImplementedError

    def probabilities(
        self, batch_counts: Mapping[str, int], *, epoch: int = 0, total_epochs: int | None = None
    ) -> dict[str, float]:
        """The probability of each task (with at least one batch) at every step of ``epoch``."""
        tasks = sorted(name for name, count in batch_counts.items() if count > 0)
        weights = self.weights([batch_counts[t] for t in tasks], epoch=epoch, total_epochs=total_epochs)
        total = sum(weights)
        return {task: weight / total for task, weight in zip(tasks, weights, strict=True)}

    def plan(
        self, batch_counts: Mapping[str, int], *, epoch: int, seed: int, total_epochs: int | None = None
    ) -> list[str]:
        """Draw ``steps`` tasks with a generator seeded from ``seed`` and ``epoch`` only."""
        probabilities = self.probabilities(batch_counts, epoch=epoch, total_epochs=total_epochs)
        if not probabilities:
            return []
        steps = self.steps if self.steps is not None else sum(batch_counts[t] for t in probabilities)
        logger.debug("epoch %d: %d steps with task probabilities %s", epoch, steps, probabilities)
        generator = random.Random(derive_seed("plan", seed, epoch))
        return generator.choices(list(probabilities), weights=list(probabilities.values()), k=steps)


class UniformSampler(WeightedSampler):
    """Picks the task of every step uniformly at random, whatever the tasks' sizes.

    Args:
        steps: Steps per epoch; ``None`` means the total number of batches of all tasks.
    """

    def weights(self, counts: Sequence[int], *, epoch: int, total_epochs: int | None) -> list[float]:
        """Equal weights."""
        return [1.0] * len(counts)


class ProportionalSampler(WeightedSampler):
    """Picks the task of every step with probability proportional to its number of batches.

    Args:
        steps: Steps per epoch; ``None`` means the total number of batches of all tasks.
    """

    def weights(self, counts: Sequence[int], *, epoch: int, total_epochs: int | None) -> list[float]:
        """The batch counts."""
        return [float(count) for count in counts]


class TemperatureSampler(WeightedSampler):
    """Picks the task of every step with probability proportional to its batch count raised to ``alpha``.

    Args:
        alpha: The exponent: ``1`` is proportional sampling, ``0`` uniform; the default ``0.75``
            is BAM's (Clark et al., 2019).
        steps: Steps per epoch; ``None`` means the total number of batches of all tasks.
    """

    def __init__(self, *, alpha: float = 0.75, steps: int | None = None) -> None:
        super().__init__(steps=steps)
        self.alpha = alpha

    def weights(self, counts: Sequence[int], *, epoch: int, total_epochs: int | None) -> list[float]:
        """The batch counts to the power ``alpha``."""
        return [float(count) ** self.alpha for count in counts]


class AnnealedSampler(WeightedSampler):
    """Temperature sampling whose exponent moves linearly over the epochs, from ``start`` to ``end``.

    With the defaults this is the annealed sampling of Stickland & Murray (2019, "BERT and PALs"):
    ``alpha = 1 - 0.8 (e - 1) / (E - 1)``, from proportional towards uniform.

    Args:
        start: The exponent in the first epoch.
        end: The exponent in the last epoch (a one-epoch run uses ``start``).
        steps: Steps per epoch; ``None`` means the total number of batches of all tasks.
    """

    def __init__(self, *, start: float = 1.0, end: float = 0.2, steps: int | None = None) -> None:
        super().__init__(steps=steps)
        self.start, self.end = start, end

    def alpha(self, epoch: int, total_epochs: int) -> float:
        """The exponent of the 0-based ``epoch`` of a run of ``total_epochs`` epochs."""
        if total_epochs <= 1:
            return self.start
        progress = min(max(epoch, 0), total_epochs - 1) / (total_epochs - 1)
        return self.start + (self.end - self.start) * progress

    def weights(self, counts: Sequence[int], *, epoch: int, total_epochs: int | None) -> list[float]:
        """The batch counts to the power of this epoch's exponent."""
        if total_epochs is None:
            raise ValueError("annealed sampling needs the run's number of epochs (total_epochs)")
        alpha = self.alpha(epoch, total_epochs)
        return [float(count) ** alpha for count in counts]
