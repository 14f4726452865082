"""Distillation objectives: the gold loss and a teacher's soft targets, combined by one strategy each.

Each wraps an inner objective (the gold loss: ``task_loss`` by default) and, for the tasks it
distils, looks up the batch's soft targets by row id in a targets file
(:mod:`mtdnn.distill.targets`). The soft term is the head's
:meth:`~mtdnn.heads.base.Head.soft_loss` (``KL(teacher || student)``; mean squared error for
real values), times the task's ``loss_weight`` like the gold loss. Strategies nest, so each
task can have its own: ``{type: 'bam', tasks: ['rte'], inner: {type: 'hinton', tasks: ['mrpc']}}``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import torch

from mtdnn.data.dataset import TaskData
from mtdnn.distill.targets import SoftTargets
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel
from mtdnn.task import Task
from mtdnn.training.objective import Objective, ObjectiveOutput, Step, WrappingObjective, require_output
from mtdnn.types import HeadOutput

__all__ = [
    "BamObjective",
    "DistillationObjective",
    "HintonObjective",
    "MseLogitsObjective",
    "MtdnnKdObjective",
]

logger = logging.getLogger(__name__)


class DistillationObjective(WrappingObjective):
    """Shared by the strategies: the targets file, the distilled tasks, the batch's soft targets.

    Args:
        targets: The soft-targets file (``mtdnn distill targets`` writes it).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task the file has targets for).
    """

    name = "distill"

    def __init__(
        self, *, targets: str, inner: Objective | None = None, tasks: list[str] | None = None
    ) -> None:
        super().__init__(inner=inner)
        self.path, self.tasks = Path(targets), tasks
        self.targets: SoftTargets | None = None
        self._chosen: set[str] = set()
        self._heads: dict[str, Head] = {}

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Read the targets and check them against each distilled task's labels and head.

        Raises:
            ConfigurationError: A named task is not trained or has no targets, or a head cannot
                learn from soft targets.
            DataError: The file is not a targets file, or its labels or kind of scores do not fit.
        """
        targets = SoftTargets.load(self.path)
        if self.tasks is not None:
            unknown = sorted(set(self.tasks) - set(tasks))
            missing = sorted(set(self.tasks) - set(targets.tasks))
            if unknown or missing:
                raise ConfigurationError(
                    f"{self.name} names tasks that are not trained ({unknown}) or have no targets in "
                    f"{self.path} ({missing})",
                    path="trainer.objective.tasks",
                )
        chosen = self.tasks if self.tasks is not None else [t for t in tasks if t in targets.tasks]
        if not chosen:
            raise ConfigurationError(
                f"{self.path} has soft targets for {sorted(targets.tasks)}, "
                f"none of the trained tasks {sorted(tasks)}",
                path="trainer.objective.targets",
            )
        for name in chosen:
            head = model.head(name)
            if head.soft_targets is None:
                raise ConfigurationError(
                    f"the {type(head).__name__} head of task {name!r} cannot learn from soft targets",
                    path="trainer.objective.tasks",
                )
            checked = targets.check(name, labels=tasks[name].labels, soft_targets=head.soft_targets)
            if checked.positions != head.soft_positions:
                raise DataError(
                    f"task {name!r}: the targets hold one row per {checked.positions}, and the student's "
                    f"{type(head).__name__} reads one per {head.soft_positions}",
                    file=str(self.path),
                )
        self.targets, self._chosen = targets, set(chosen)
        self._heads = {name: model.head(name) for name in chosen}
        super().setup(model, tasks=tasks, total_steps=total_steps)

    def check_data(self, data: Mapping[str, TaskData]) -> None:
        """Check that every training row of each distilled task has a soft target, and log the coverage.

        Raises:
            DataError: Rows without targets (the first few are named).
        """
        targets = self._targets()
        for name in sorted(self._chosen & set(data)):
            head = self._heads[name]
            ids = head.target_ids([data[name].row_id(row) for row in range(len(data[name]))])
            covered, missing = targets.coverage(name, ids)
            logger.info("%s: %s of %s training rows have soft targets", name, f"{covered:,}", f"{len(ids):,}")
            if missing:
                raise DataError(
                    f"task {name!r}: {len(ids) - covered:,} of {len(ids):,} training rows have no "
                    f"soft target (e.g. {missing}); compute the targets on the same training file",
                    file=str(self.path),
                )
        super().check_data(data)

    def _targets(self) -> SoftTargets:
        if self.targets is None:
            raise RuntimeError(f"{type(self).__name__}.setup() was not called")
        return self.targets

    def teacher(self, step: Step) -> torch.Tensor:
        """The batch's soft targets, shaped as its logits, on the batch's device."""
        rows = self._targets().rows(step.batch.task, step.head.target_ids(step.batch.ids))
        device = step.batch.inputs["input_ids"].device
        return step.head.teacher_batch(rows, step.batch).to(device)

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The strategy: the loss from the gold loss and the teacher's targets, and scalars to report."""
        raise NotImplementedError

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The strategy's loss for distilled tasks; the inner objective's for the others."""
        result = self.inner(step)
        if step.batch.task not in self._chosen:
            return result
        output = require_output(result, self.name, self.inner)
        loss, scalars = self.mix(step, result.loss, output, self.teacher(step))
        return ObjectiveOutput(loss=loss, output=output, scalars={**result.scalars, **scalars})


def _soft(step: Step, output: HeadOutput, teacher: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    return (
        step.head.soft_loss(output, teacher, step.batch, temperature=temperature)
        * step.task.settings.loss_weight
    )


class MtdnnKdObjective(DistillationObjective):
    """The MT-DNN toolkit's distillation: the average of the gold loss and the soft-target loss.

    Args:
        targets: The soft-targets file.
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task the file has targets for).
    """

    name = "mtdnn_kd"

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(gold + soft) / 2``."""
        soft = _soft(step, output, teacher)
        return (gold + soft) / 2, {"distill_soft": soft.detach()}


class BamObjective(DistillationObjective):
    """BAM's teacher annealing (Clark et al. 2019): ``lambda * gold + (1 - lambda) * soft``.

    With ``anneal`` (the default) ``lambda`` rises linearly from 0 at the first optimizer step to
    1 at the last, so the student learns first from the teacher and last from the gold labels;
    without, it stays at ``fixed`` (the ablation). Mixing the losses this way is mixing the
    targets (``lambda * gold + (1 - lambda) * teacher``): cross-entropy is linear in the target
    distribution, and for real values the squared error of the mixed target differs only by a
    constant.

    Args:
        targets: The soft-targets file.
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task the file has targets for).
        anneal: Raise ``lambda`` from 0 to 1 over training.
        fixed: ``lambda`` without annealing.
    """

    name = "bam"

    def __init__(
        self,
        *,
        targets: str,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        anneal: bool = True,
        fixed: float = 0.5,
    ) -> None:
        super().__init__(targets=targets, inner=inner, tasks=tasks)
        if not 0.0 <= fixed <= 1.0:
            raise ConfigurationError(f"fixed must be in [0, 1], got {fixed}", path="fixed")
        self.anneal, self.fixed = anneal, fixed

    def weight(self, step: Step) -> float:
        """``lambda`` at this step: the share of training done (annealing) or ``fixed``."""
        if not self.anneal:
            return self.fixed
        return min(1.0, step.global_step / max(1, step.total_steps - 1))

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``lambda * gold + (1 - lambda) * soft``."""
        soft, share = _soft(step, output, teacher), self.weight(step)
        scalars = {"distill_soft": soft.detach(), "bam_lambda": torch.tensor(share, device=soft.device)}
        return share * gold + (1 - share) * soft, scalars


class HintonObjective(DistillationObjective):
    """Hinton et al. (2015): ``(1 - alpha) * gold + alpha * T^2 * KL`` at temperature ``T``.

    Args:
        targets: The soft-targets file.
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task the file has targets for).
        alpha: Weight of the soft term.
        temperature: ``T``; ``T^2`` keeps the soft term's gradients at the gold term's scale.
    """

    name = "hinton"

    def __init__(
        self,
        *,
        targets: str,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        alpha: float = 0.5,
        temperature: float = 2.0,
    ) -> None:
        super().__init__(targets=targets, inner=inner, tasks=tasks)
        if not 0.0 <= alpha <= 1.0:
            raise ConfigurationError(f"alpha must be in [0, 1], got {alpha}", path="alpha")
        if not (math.isfinite(temperature) and temperature > 0):
            raise ConfigurationError(f"temperature must be positive, got {temperature}", path="temperature")
        self.alpha, self.temperature = alpha, temperature

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(1 - alpha) * gold + alpha * T^2 * soft_T``."""
        soft = _soft(step, output, teacher, self.temperature)
        loss = (1 - self.alpha) * gold + self.alpha * self.temperature**2 * soft
        return loss, {"distill_soft": soft.detach()}


class MseLogitsObjective(DistillationObjective):
    """Tang et al. (2019): the mean squared error between the student's and the teacher's logits.

    The loss is ``(1 - alpha) * gold + alpha * MSE``; by default the MSE alone, as for their
    BiLSTM student.

    Args:
        targets: The soft-targets file (best combined as ``logits``).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task the file has targets for).
        alpha: Weight of the MSE term.
    """

    name = "mse_logits"

    def __init__(
        self,
        *,
        targets: str,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        alpha: float = 1.0,
    ) -> None:
        super().__init__(targets=targets, inner=inner, tasks=tasks)
        if not 0.0 <= alpha <= 1.0:
            raise ConfigurationError(f"alpha must be in [0, 1], got {alpha}", path="alpha")
        self.alpha = alpha

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(1 - alpha) * gold + alpha * MSE(logits)``."""
        distance = step.head.logit_distance(output, teacher, step.batch) * step.task.settings.loss_weight
        return (1 - self.alpha) * gold + self.alpha * distance, {"distill_mse": distance.detach()}
