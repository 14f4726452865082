"""Online distillation: teacher runs that score every training batch as the student sees it.

Offline targets (:mod:`mtdnn.distill.targets`) are computed once, for the rows of a file the
teachers scored. Online, the teachers run inside the objective: each batch's examples are
featurized by each teacher's own encoder and task settings (its tokenizer, its windows), scored
in eval mode, turned into rows exactly as ``mtdnn distill targets`` would store them and
averaged, so a student can learn from teachers on inputs no teacher ever labelled (other
training files, augmented or unlabelled text). Each step pays one teacher forward pass per
teacher.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from mtdnn.archive import load_run
from mtdnn.data.dataset import TaskData
from mtdnn.distill.targets import Combine, combine_teachers
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.task import Task
from mtdnn.training.device import resolve_precision
from mtdnn.training.evaluation import score_rows
from mtdnn.types import Example

__all__ = ["OnlineTeachers", "Teacher", "TeacherRuns"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Teacher:
    """One teacher run's model and one of its tasks."""

    run: str
    model: MultiTaskModel
    task: Task

    @property
    def head(self) -> Head:
        return self.model.head(self.task.name)

    @property
    def encoder(self) -> Encoder:
        return self.model.encoder


class TeacherRuns:
    """The ``teachers`` of a distillation objective: run directories to score every batch online.

    Only a description: the runs are rebuilt by :meth:`load` when training starts, so building
    the student's config (to predict with it, say) never touches them.

    Args:
        runs: The teacher run directories (single-task or multi-task); heads are matched by task name.
        combine: Average the teachers' probabilities (``probs``) or logits (``logits``).
        registry: Rebuilds the runs (given by the config builder).
    """

    def __init__(self, runs: list[str], combine: Combine = "probs", registry: Registry | None = None) -> None:
        if not runs:
            raise ConfigurationError("online distillation needs at least one teacher run", path="runs")
        self.runs, self.combine, self.registry = runs, combine, registry

    def __repr__(self) -> str:
        return f"{self.runs}"

    def load(self) -> OnlineTeachers:
        """Rebuild the runs.

        Raises:
            ConfigurationError: A run cannot be rebuilt.
        """
        if self.registry is None:
            raise ConfigurationError("online teachers need the registry to rebuild runs", path="teachers")
        return OnlineTeachers.from_runs(self.runs, self.registry, combine=self.combine)


class OnlineTeachers:
    """Teacher models that score the student's batches; heads are matched by task name.

    It answers the same questions as a targets file (:class:`~mtdnn.distill.targets.SoftTargets`):
    which tasks it has, whether they fit the student's, and the rows of a batch.
    :meth:`from_runs` builds it from run directories.

    Args:
        teachers: Each teacher model with one of its tasks (a model may teach several tasks).
        combine: Average the teachers' probabilities (``probs``) or logits (``logits``).
    """

    def __init__(self, teachers: Sequence[Teacher], *, combine: Combine = "probs") -> None:
        if not teachers:
            raise ConfigurationError("online distillation needs at least one teacher run", path="teachers")
        self.combine = combine
        self.teachers: dict[str, list[Teacher]] = {}
        self._models: list[MultiTaskModel] = []
        for teacher in teachers:
            self.teachers.setdefault(teacher.task.name, []).append(teacher)
            if not any(model is teacher.model for model in self._models):
                self._models.append(teacher.model.eval().requires_grad_(False))
        self._examples: dict[str, dict[str, Example]] = {}

    @classmethod
    def from_runs(
        cls, runs: Sequence[str | Path], registry: Registry, *, combine: Combine = "probs"
    ) -> OnlineTeachers:
        """Rebuild each run's model; every task of a run teaches the student's task of that name."""
        teachers = []
        for run in runs:
            experiment, model = load_run(Path(run), registry)
            teachers += [Teacher(str(run), model, task) for task in experiment.tasks.values()]
        return cls(teachers, combine=combine)

    @property
    def tasks(self) -> list[str]:
        """The task names some teacher run has."""
        return list(self.teachers)

    def modules(self) -> dict[str, nn.Module]:
        """The teacher models, by position (moved to the device and kept out of training)."""
        return {f"teacher{number}": model for number, model in enumerate(self._models)}

    def check(
        self, task: str, *, labels: Sequence[str] | None, soft_targets: str | None, positions: str
    ) -> None:
        """Check that every teacher of ``task`` can teach the student's task.

        Raises:
            ConfigurationError: No teacher has ``task``, a teacher's head cannot teach or gives
                other scores than the student's head takes, or the label orders differ.
        """
        if task not in self.teachers:
            raise ConfigurationError(
                f"no teacher run has a task {task!r}; they have {sorted(self.teachers)}", path="teachers"
            )
        for teacher in self.teachers[task]:
            head = teacher.head
            where = f"the {type(head).__name__} head of task {task!r} in {teacher.run}"
            if head.soft_targets is None:
                raise ConfigurationError(f"{where} cannot teach", path="teachers")
            if head.soft_targets != soft_targets or head.soft_positions != positions:
                raise ConfigurationError(
                    f"{where} gives {head.soft_targets!r} scores per {head.soft_positions}, and the "
                    f"student's head takes {soft_targets!r} scores per {positions}",
                    path="teachers",
                )
            if teacher.task.labels is not None and labels is not None and teacher.task.labels != list(labels):
                raise ConfigurationError(
                    f"{where} has the labels {teacher.task.labels}, not the student's {list(labels)} in "
                    "the same order, so its scores would be matched to the wrong classes",
                    path="teachers",
                )

    def prepare(self, task: str, data: TaskData, head: Head) -> None:
        """Remember the example behind each of the student's target ids of ``task``."""
        examples: dict[str, Example] = {}
        for row in range(len(data)):
            (target,) = head.target_ids([data.row_id(row)])
            examples[target] = data.examples[data.owner(row)]
        self._examples[task] = examples

    def rows(self, task: str, ids: Sequence[str]) -> list[torch.Tensor]:
        """The teachers' averaged rows for the student's target ids ``ids`` of ``task``, in that order.

        Raises:
            DataError: A teacher's rows do not include one of ``ids`` (e.g. other windows).
        """
        examples = self._batch_examples(task, ids)
        scored: list[list[torch.Tensor]] = []
        groups: list[int] | None = None
        for teacher in self.teachers[task]:
            with _quiet():  # the student's own featurization of these examples has said it all
                data = teacher.task.featurize(examples, teacher.encoder, source=f"a batch of {task!r}")
            device = next(teacher.model.parameters()).device
            with torch.no_grad():
                scores = score_rows(
                    teacher.model,
                    teacher.task,
                    data,
                    teacher.head.teacher_scores,
                    device=device,
                    precision=resolve_precision(device, "auto"),
                )
            found_ids, found_rows = teacher.head.teacher_rows(data, scores)
            by_id = dict(zip(found_ids, found_rows, strict=True))
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise DataError(
                    f"task {task!r}: the teacher {teacher.run} has no rows {missing[:5]} for this batch "
                    "(its windows differ from the student's: use the same tokenizer, max_length and "
                    "doc_stride)"
                )
            scored.append([by_id[i] for i in ids])
            if groups is None and data.groups is not None and len(found_ids) == len(data):
                row_groups = dict(zip(found_ids, data.groups, strict=True))
                groups = [row_groups[i] for i in ids]
        soft_targets = self.teachers[task][0].head.soft_targets
        assert soft_targets is not None  # check() refused heads that cannot teach
        return combine_teachers(scored, soft_targets=soft_targets, how=self.combine, groups=groups)

    def _batch_examples(self, task: str, ids: Iterable[str]) -> list[Example]:
        known, chosen, seen = self._examples[task], [], set()
        for target in ids:
            example = known[target]
            if example.id not in seen:
                seen.add(example.id)
                chosen.append(dataclasses.replace(example, label=None, tags=None, answers=None))
        return chosen


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hold back mtdnn's log records below ERROR (featurizing every batch would repeat them)."""
    root = logging.getLogger("mtdnn")
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
