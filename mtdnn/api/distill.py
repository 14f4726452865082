"""Soft targets from trained teacher runs (``mtdnn distill targets``)."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtdnn.archive import load_run
from mtdnn.distill.objectives import DistillationObjective
from mtdnn.distill.targets import Combine, SoftTargets, TaskTargets, combine_teachers
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.device import resolve_precision, select_device
from mtdnn.training.evaluation import score_rows
from mtdnn.training.objective import Objective

__all__ = [
    "TeacherScores",
    "compute_targets",
    "describe_targets",
    "parse_teachers",
    "targets_for_teachers",
    "with_targets",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeacherScores:
    """One teacher run's scores of one task's rows."""

    run: str
    config_sha256: str
    head: str
    soft_targets: str
    labels: list[str] | None
    positions: str
    ids: tuple[str, ...]
    groups: tuple[int, ...] | None
    rows: list[torch.Tensor]
    gold: tuple[float, ...] | None


def compute_targets(
    runs: Sequence[Path],
    registry: Registry,
    *,
    tasks: Sequence[str] | None = None,
    split: str = "train",
    combine: Combine = "probs",
    device: str = "auto",
    limit: int | None = None,
) -> SoftTargets:
    """Run every teacher over its tasks' ``split`` file and average the teachers of each task.

    Each run may be single-task or multi-task; heads are matched by task name, and every teacher
    of a task must have scored the same rows (the same file). The result holds one task per task
    name that some run trains (only ``tasks``, when given).

    ``limit`` scores the first ``limit`` rows of each file, and on the training split it replaces
    the teachers' own ``train_limit``: a teacher fine-tuned on the first 3,000 labelled sentences
    can label the first 15,000 as a transfer set for its student (whose loss may then ignore the
    gold labels, e.g. ``hinton`` with ``alpha: 1``).

    Raises:
        ConfigurationError: A named task is in no run, a run's head cannot teach, or the teachers
            of a task disagree on labels, head or rows.
    """
    if limit is not None and limit < 1:
        raise ConfigurationError(f"limit must be at least 1, got {limit}", path="--limit")
    scored: dict[str, list[TeacherScores]] = {}
    for run in runs:
        for name, scores in _score_run(
            run, registry, tasks=tasks, split=split, device=device, limit=limit
        ).items():
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
    run: Path,
    registry: Registry,
    *,
    tasks: Sequence[str] | None,
    split: str,
    device: str,
    limit: int | None = None,
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
        if limit is not None:
            task.settings.train_limit = None  # this run's copy: --limit replaces the teacher's own cap
        data = task.load(split, experiment.encoder, limit=limit)
        logger.info("%s: scoring %s rows of %s", run, f"{len(data):,}", name)
        scores = score_rows(model, task, data, head.teacher_scores, device=where, precision=precision)
        ids, rows = head.teacher_rows(data, scores)
        per_example = head.soft_positions == "example"
        found[name] = TeacherScores(
            run=str(run),
            config_sha256=sha,
            head=type(head).__name__,
            soft_targets=head.soft_targets,
            labels=task.labels,
            positions=head.soft_positions,
            ids=tuple(ids),
            groups=None if data.groups is None or not per_example else tuple(data.groups),
            rows=rows,
            gold=_gold(data.targets) if per_example else None,
        )
    return found


def _combine(name: str, teachers: list[TeacherScores], split: str, combine: Combine) -> TaskTargets:
    first = teachers[0]
    for other in teachers[1:]:
        for what, mine, theirs in (
            ("labels", first.labels, other.labels),
            ("head", first.soft_targets, other.soft_targets),
            ("rows", first.ids, other.ids),
            ("row lengths (tokenization)", [r.shape for r in first.rows], [r.shape for r in other.rows]),
        ):
            if mine != theirs:
                raise ConfigurationError(
                    f"the teachers of task {name!r} disagree on {what}: {first.run} and {other.run} "
                    "(every teacher of a task must score the same file with the same labels)"
                )
    rows = combine_teachers(
        [t.rows for t in teachers], soft_targets=first.soft_targets, how=combine, groups=first.groups
    )
    one_position = all(row.shape[0] == 1 for row in first.rows)
    votes = None
    if first.soft_targets == "softmax" and one_position:
        votes = tuple(zip(*([int(row.argmax()) for row in t.rows] for t in teachers), strict=True))
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
        positions=first.positions,
        split=split,
        combine=combine,
        teachers=described,
        groups=first.groups,
        gold=first.gold,
        votes=votes,
    )


def _gold(targets: Sequence[Any] | None) -> tuple[float, ...] | None:
    """The rows' gold label ids or values, where each row has one number."""
    if targets is None or not all(isinstance(t, int | float) for t in targets):
        return None
    return tuple(float(t) for t in targets)


def describe_targets(targets: SoftTargets) -> list[str]:
    """Lines that describe a targets file: per task its rows, teachers, how they agree, entropy."""
    lines = []
    for name, task in targets.tasks.items():
        kind = f"{task.soft_targets} scores of a {task.head} per {task.positions}"
        lines.append(f"{name}: {len(task.ids):,} rows, {kind}")
        lines.append(f"  split {task.split!r}, {len(task.teachers)} teacher(s) combined as {task.combine}:")
        lines += [
            f"    {t['run']} (task {t['task']}, config sha256 {t['config_sha256'][:12]})"
            for t in task.teachers
        ]
        if task.labels is not None:
            lines.append(f"  labels: {task.labels}")
        if task.soft_targets == "softmax" and task.rows:
            entropy = [
                float(-(torch.softmax(r, -1) * torch.log_softmax(r, -1)).sum(-1).mean()) for r in task.rows
            ]
            uniform = math.log(task.rows[0].shape[-1])
            lines.append(f"  mean entropy {sum(entropy) / len(entropy):.3f} nats (uniform: {uniform:.3f})")
            chosen = [int(r.mean(0).argmax()) for r in task.rows]
            if task.gold is not None:
                right = sum(c == int(g) for c, g in zip(chosen, task.gold, strict=True))
                lines.append(
                    f"  the combined targets' accuracy on the gold labels: {right / len(chosen):.4f}"
                )
        if task.votes is not None and len(task.teachers) > 1:
            agree = sum(len(set(v)) == 1 for v in task.votes) / len(task.votes)
            lines.append(f"  all teachers choose the same label on {agree:.1%} of the rows")
            if task.gold is not None:
                for number, teacher in enumerate(task.teachers):
                    right = sum(v[number] == int(g) for v, g in zip(task.votes, task.gold, strict=True))
                    lines.append(
                        f"    {teacher['run']}: accuracy {right / len(task.votes):.4f} on the gold labels"
                    )
    return lines


def with_targets(
    config: dict[str, Any], targets: Path, registry: Registry, *, strategy: str = "bam"
) -> dict[str, Any]:
    """``config`` with its distillation objective reading ``targets``.

    The first distillation objective in ``trainer.objective`` (or in its chain of ``inner``
    objectives, e.g. under ``smart``) gets ``targets``; a config without one gets its objective
    wrapped in ``strategy`` (``{type: strategy, targets: ..., inner: <its objective>}``).
    """
    trainer = dict(config.get("trainer") or {})
    objective = trainer.get("objective")
    found = _set_targets(objective, str(targets), registry, "trainer.objective")
    if found is None:
        found = {"type": strategy, "targets": str(targets), "inner": objective or {"type": "task_loss"}}
        registry.resolve(Objective, strategy, path="--strategy")
    return {**config, "trainer": {**trainer, "objective": found}}


def _set_targets(objective: Any, targets: str, registry: Registry, path: str) -> dict[str, Any] | None:
    if objective is None:
        return None
    spec = {"type": objective} if isinstance(objective, str) else dict(objective)
    kind = registry.resolve(Objective, spec["type"], path=f"{path}.type")
    if issubclass(kind, DistillationObjective):
        return {**spec, "targets": targets}
    inner = _set_targets(spec.get("inner"), targets, registry, f"{path}.inner")
    return None if inner is None else {**spec, "inner": inner}


def parse_teachers(pairs: Sequence[str]) -> dict[str, list[Path]]:
    """``TASK=RUN`` pairs (``--teacher``) as the teacher runs of each task, in the order given.

    Raises:
        ConfigurationError: A pair is not ``TASK=RUN``.
    """
    teachers: dict[str, list[Path]] = {}
    for pair in pairs:
        task, _, run = pair.partition("=")
        if not task or not run:
            raise ConfigurationError(f"--teacher takes TASK=RUN, got {pair!r}", path="--teacher")
        teachers.setdefault(task, []).append(Path(run))
    return teachers


def targets_for_teachers(
    teachers: dict[str, list[Path]],
    registry: Registry,
    cache: Path,
    *,
    combine: Combine = "probs",
    device: str = "auto",
) -> SoftTargets:
    """The soft targets of each task from its own teachers, kept in ``cache`` and reused from there.

    Raises:
        ConfigurationError: ``cache`` holds targets of other teachers.
    """
    wanted = {task: [str(run) for run in runs] for task, runs in teachers.items()}
    if cache.is_file():
        cached = SoftTargets.load(cache)
        have = {task: [t["run"] for t in targets.teachers] for task, targets in cached.tasks.items()}
        if have != wanted:
            raise ConfigurationError(
                f"{cache} holds soft targets of other teachers ({have}, not {wanted})",
                hint="start a new run directory, or remove the file to compute them again",
            )
        logger.info("reusing the soft targets in %s", cache)
        return cached
    tasks: dict[str, TaskTargets] = {}
    for task, runs in teachers.items():
        tasks.update(compute_targets(runs, registry, tasks=[task], combine=combine, device=device).tasks)
    targets = SoftTargets(tasks, source=str(cache))
    targets.save(cache)
    return targets
