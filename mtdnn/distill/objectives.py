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
from torch import nn

from mtdnn.data.dataset import TaskData
from mtdnn.distill.online import OnlineTeachers, TeacherRuns
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
    """Shared by the strategies: where the soft targets come from, the distilled tasks, a batch's targets.

    The targets come from a file (``targets``: offline, computed once by ``mtdnn distill
    targets``) or from teacher runs that score every batch (``teachers``: online, see
    :mod:`mtdnn.distill.online`); give one of the two.

    Args:
        targets: The soft-targets file.
        teachers: Teacher runs to score every batch instead (``{runs: [...], combine: 'probs'}``).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task that has targets or a teacher).
    """

    name = "distill"

    def __init__(
        self,
        *,
        targets: str | None = None,
        teachers: TeacherRuns | None = None,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
    ) -> None:
        super().__init__(inner=inner)
        if (targets is None) == (teachers is None):
            raise ConfigurationError(
                "give either targets (a file from 'mtdnn distill targets') or teachers (run "
                "directories to run online), not " + ("both" if targets is not None else "neither"),
                path="targets",
            )
        self.path = Path(targets) if targets is not None else None
        self.runs, self.tasks = teachers, tasks
        self.targets: SoftTargets | OnlineTeachers | None = None
        self._chosen: set[str] = set()
        self._heads: dict[str, Head] = {}

    @property
    def source(self) -> str:
        """Where the targets come from, for messages."""
        return str(self.path) if self.path is not None else f"the teachers {self.runs}"

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Read the targets (or rebuild the teachers) and check them against each distilled task.

        Raises:
            ConfigurationError: A named task is not trained or has no targets, or a head cannot
                learn from soft targets (or a teacher's cannot teach it).
            DataError: The file is not a targets file, or its labels or kind of scores do not fit.
        """
        targets: SoftTargets | OnlineTeachers
        if self.runs is not None:
            targets = self.runs.load()
        else:
            assert self.path is not None  # the constructor asked for one of the two
            targets = SoftTargets.load(self.path)
        if self.tasks is not None:
            unknown = sorted(set(self.tasks) - set(tasks))
            missing = sorted(set(self.tasks) - set(targets.tasks))
            if unknown or missing:
                raise ConfigurationError(
                    f"{self.name} names tasks that are not trained ({unknown}) or have no targets in "
                    f"{self.source} ({missing})",
                    path="trainer.objective.tasks",
                )
        chosen = self.tasks if self.tasks is not None else [t for t in tasks if t in targets.tasks]
        if not chosen:
            raise ConfigurationError(
                f"{self.source} has soft targets for {sorted(targets.tasks)}, "
                f"none of the trained tasks {sorted(tasks)}",
                path="trainer.objective.targets" if self.path is not None else "trainer.objective.teachers",
            )
        for name in chosen:
            head = model.head(name)
            if head.soft_targets is None:
                raise ConfigurationError(
                    f"the {type(head).__name__} head of task {name!r} cannot learn from soft targets",
                    path="trainer.objective.tasks",
                )
            if isinstance(targets, OnlineTeachers):
                targets.check(
                    name,
                    labels=tasks[name].labels,
                    soft_targets=head.soft_targets,
                    positions=head.soft_positions,
                )
                continue
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

    def modules(self) -> dict[str, nn.Module]:
        """The online teachers' models (kept out of training and of the saved model), and the inner ones."""
        own = self.targets.modules() if isinstance(self.targets, OnlineTeachers) else {}
        return {**own, **super().modules()}

    def check_data(self, data: Mapping[str, TaskData]) -> None:
        """Check that every training row of each distilled task has a soft target, and log the coverage.

        Raises:
            DataError: Rows without targets (the first few are named).
        """
        targets = self._targets()
        for name in sorted(self._chosen & set(data)):
            head = self._heads[name]
            if isinstance(targets, OnlineTeachers):
                targets.prepare(name, data[name], head)
                logger.info(
                    "%s: %s teacher run(s) score every batch online", name, len(targets.teachers[name])
                )
                continue
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

    def _targets(self) -> SoftTargets | OnlineTeachers:
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
        teachers: Teacher runs to score every batch instead (see :class:`DistillationObjective`).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task that has targets or a teacher).
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
        teachers: Teacher runs to score every batch instead (see :class:`DistillationObjective`).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task that has targets or a teacher).
        anneal: Raise ``lambda`` from 0 to 1 over training.
        fixed: ``lambda`` without annealing.
    """

    name = "bam"

    def __init__(
        self,
        *,
        targets: str | None = None,
        teachers: TeacherRuns | None = None,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        anneal: bool = True,
        fixed: float = 0.5,
    ) -> None:
        super().__init__(targets=targets, teachers=teachers, inner=inner, tasks=tasks)
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
        teachers: Teacher runs to score every batch instead (see :class:`DistillationObjective`).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task that has targets or a teacher).
        alpha: Weight of the soft term.
        temperature: ``T``; ``T^2`` keeps the soft term's gradients at the gold term's scale.
    """

    name = "hinton"

    def __init__(
        self,
        *,
        targets: str | None = None,
        teachers: TeacherRuns | None = None,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        alpha: float = 0.5,
        temperature: float = 2.0,
    ) -> None:
        super().__init__(targets=targets, teachers=teachers, inner=inner, tasks=tasks)
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
        teachers: Teacher runs to score every batch instead (best combined as ``logits``).
        inner: The gold objective (``task_loss`` by default).
        tasks: The tasks to distil (default: every trained task that has targets or a teacher).
        alpha: Weight of the MSE term.
    """

    name = "mse_logits"

    def __init__(
        self,
        *,
        targets: str | None = None,
        teachers: TeacherRuns | None = None,
        inner: Objective | None = None,
        tasks: list[str] | None = None,
        alpha: float = 1.0,
    ) -> None:
        super().__init__(targets=targets, teachers=teachers, inner=inner, tasks=tasks)
        if not 0.0 <= alpha <= 1.0:
            raise ConfigurationError(f"alpha must be in [0, 1], got {alpha}", path="alpha")
        self.alpha = alpha

    def mix(
        self, step: Step, gold: torch.Tensor, output: HeadOutput, teacher: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(1 - alpha) * gold + alpha * MSE(logits)``."""
        distance = step.head.logit_distance(output, teacher, step.batch) * step.task.settings.loss_weight
        return (1 - self.alpha) * gold + self.alpha * distance, {"distill_mse": distance.detach()}
