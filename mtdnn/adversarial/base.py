"""What every adversarial objective shares: which tasks it perturbs, and with what weight."""

from __future__ import annotations

from collections.abc import Mapping

from mtdnn.errors import ConfigurationError
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel
from mtdnn.task import Task
from mtdnn.training.objective import Objective, WrappingObjective, require_divergence

__all__ = ["AdversarialObjective", "has_divergence"]


def has_divergence(head: Head) -> bool:
    """Whether ``head`` defines :meth:`~mtdnn.heads.base.Head.divergence`."""
    return type(head).divergence is not Head.divergence


class AdversarialObjective(WrappingObjective):
    """An objective that adds an adversarial term to its inner one, for some or all tasks.

    Batches of a task it does not perturb get the inner objective alone.

    Args:
        inner: The objective wrapped (``task_loss`` by default).
        weight: The adversarial term's weight.
        tasks: The tasks to perturb. By default every task (for objectives built on the heads'
            divergence, every task whose head defines one).
        task_weights: Weights for some tasks in place of ``weight``.
    """

    uses_divergence = False
    """Whether the term compares two head outputs (then every perturbed head needs a divergence)."""

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        weight: float = 1.0,
        tasks: list[str] | None = None,
        task_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(inner=inner)
        weights = {"weight": weight, **{f"task_weights.{k}": v for k, v in (task_weights or {}).items()}}
        for name, value in weights.items():
            if not value >= 0:
                raise ConfigurationError(f"{name} must not be negative, got {value}", path=name)
        self.weight, self.tasks, self.task_weights = weight, tasks, dict(task_weights or {})
        self._weights: dict[str, float] = {}

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Resolve the perturbed tasks and their weights, then set the inner objective up.

        Raises:
            ConfigurationError: A named task is not trained, a named task's head has no
                divergence, or (by default) no task's head has one.
        """
        name = type(self).__name__
        for key, named in (("tasks", self.tasks or []), ("task_weights", list(self.task_weights))):
            unknown = sorted(set(named) - set(tasks))
            if unknown:
                raise ConfigurationError(
                    f"{name} names tasks that are not trained: {unknown}; trained: {sorted(tasks)}",
                    path=f"trainer.objective.{key}",
                )
        if self.tasks is not None:
            chosen = list(self.tasks)
            if self.uses_divergence:
                require_divergence(model, {task: tasks[task] for task in chosen}, objective=name)
        else:
            chosen = [task for task in tasks if not self.uses_divergence or has_divergence(model.head(task))]
            if not chosen:
                raise ConfigurationError(
                    f"{name} compares two outputs of a head, and no trained task's head defines "
                    "divergence(a, b, batch)",
                    path="trainer.objective",
                    hint="use another objective, or give the heads a divergence method",
                )
        self._weights = {task: self.task_weights.get(task, self.weight) for task in chosen}
        super().setup(model, tasks=tasks, total_steps=total_steps)

    def weight_for(self, task: str) -> float | None:
        """The term's weight for ``task``, or ``None`` when the task is not perturbed."""
        return self._weights.get(task)
