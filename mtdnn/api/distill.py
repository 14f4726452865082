"""Soft targets from trained teacher runs (``mtdnn distill targets``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtdnn.archive import load_run
from mtdnn.distill.targets import Combine, SoftTargets, TaskTargets, combine_teachers
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.device import resolve_precision, select_device
from mtdnn.training.evaluation import score_rows

__all__ = ["TeacherScores", "compute_targets"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeacherScores:
    """One teacher run's scores of one task's rows."""

    run: str
    config_sha256: str
    head: str
    soft_targets: str
    labels: list[str] | None
    ids: tuple[str, ...]
    groups: tuple[int, ...] | None
    rows: list[torch.Tensor]


def compute_targets(
    runs: Sequence[Path],
    registry: Registry,
    *,
    tasks: Sequence[str] | None = None,
    split: str = "train",
    combine: Combine = "probs",
    device: str = "auto",
) -> SoftTargets:
    """Run every teacher over its tasks' ``split`` file and average the teachers of each task.

    Each run may be single-task or multi-task; heads are matched by task name, and every teacher
    of a task must have scored the same rows (the same file). The result holds one task per task
    name that some run trains (only ``tasks``, when given).

    Raises:
        ConfigurationError: A named task is in no run, a run's head cannot teach, or the teachers
            of a task disagree on labels, head or rows.
    """
    scored: dict[str, list[TeacherScores]] = {}
    for run in runs:
        for name, scores in _score_run(run, registry, tasks=tasks, split=split, device=device).items():
            scored.setdefault(name, []).append(scores)
    missing = sorted(set(tasks or ()) - set(scored))
    if missing:
        raise ConfigurationError(
            f"no teacher run has a {split!r} file for the tasks {missing}", path="--task"
        )
    if not scored:
        raise ConfigurationError(f"the teacher runs have no task with a {split!r} file")
    return SoftTargets({name: _combine(name, teachers, split, combine) for name, teachers in scored.items()})


def _score_run(
    run: Path, registry: Registry, *, tasks: Sequence[str] | None, split: str, device: str
) -> dict[str, TeacherScores]:
    experiment, model = load_run(run, registry)
    where = select_device(device)
    precision = resolve_precision(where, "auto")
    model.to(where)
    sha = hashlib.sha256(RunDirectory(run).config.read_bytes()).hexdigest()
    found = {}
    for name, task in experiment.tasks.items():
        if (tasks is not None and name not in tasks) or not task.settings.has(split):
            continue
        head = model.head(name)
        if head.soft_targets is None:
            raise ConfigurationError(f"the {type(head).__name__} head of task {name!r} in {run} cannot teach")
        data = task.load(split, experiment.encoder)
        logger.info("%s: scoring %s rows of %s", run, f"{len(data):,}", name)
        rows = score_rows(model, task, data, head.teacher_scores, device=where, precision=precision)
        found[name] = TeacherScores(
            run=str(run),
            config_sha256=sha,
            head=type(head).__name__,
            soft_targets=head.soft_targets,
            labels=task.labels,
            ids=tuple(data.row_id(row) for row in range(len(data))),
            groups=None if data.groups is None else tuple(data.groups),
            rows=rows,
        )
    return found


def _combine(name: str, teachers: list[TeacherScores], split: str, combine: Combine) -> TaskTargets:
    first = teachers[0]
    for other in teachers[1:]:
        for what, mine, theirs in (
            ("labels", first.labels, other.labels),
            ("head", first.soft_targets, other.soft_targets),
            ("rows", first.ids, other.ids),
        ):
            if mine != theirs:
                raise ConfigurationError(
                    f"the teachers of task {name!r} disagree on {what}: {first.run} and {other.run} "
                    "(every teacher of a task must score the same file with the same labels)"
                )
    rows = combine_teachers(
        [t.rows for t in teachers], soft_targets=first.soft_targets, how=combine, groups=first.groups
    )
    described: list[dict[str, Any]] = [
        {"run": t.run, "task": name, "config_sha256": t.config_sha256} for t in teachers
    ]
    return TaskTargets(
        task=name,
        head=first.head,
        soft_targets=first.soft_targets,
        labels=first.labels,
        ids=first.ids,
        rows=tuple(rows),
        split=split,
        combine=combine,
        teachers=described,
        groups=first.groups,
    )
