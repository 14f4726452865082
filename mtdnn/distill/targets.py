"""Soft targets: teachers' scores for a student's training rows, keyed by row id, in one safetensors file.

The file holds, per task, the scores of every row (``[n, C]`` float32 each, stacked as
``TASK.values`` with their lengths ``n`` as ``TASK.lengths``) and a JSON header (the
safetensors metadata key ``mtdnn``) that says what they are:

```json
{"format": "mtdnn-soft-targets", "version": 1,
 "tasks": {"rte": {"head": "ClassificationHead", "soft_targets": "softmax", "labels": ["entailment", ...],
                   "positions": "example", "split": "train", "combine": "probs",
                   "teachers": [{"run": "runs/rte-1", "task": "rte", "config_sha256": "..."}],
                   "ids": ["0", "1", ...], "groups": null}}}
```

``soft_targets`` says how a row's scores become distributions (see
:attr:`mtdnn.heads.base.Head.soft_targets`); ``positions`` what a row's ``n`` entries are
(``example``: one per example; ``word``: one per word of the example; ``token``: one per token
of a window). ``ids`` are the rows' ids in the order of the stacked values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file, save_file

from mtdnn.errors import DataError
from mtdnn.functional import group_log_softmax

__all__ = ["Combine", "SoftTargets", "TaskTargets", "combine_teachers"]

FORMAT, VERSION = "mtdnn-soft-targets", 1
Combine = Literal["probs", "logits"]


@dataclass(frozen=True)
class TaskTargets:
    """The soft targets of one task: a ``[n, C]`` float32 tensor per row id.

    Args:
        task: The task's name.
        head: The teachers' head class.
        soft_targets: How the scores become distributions (``softmax``, ``sigmoid``, ``value``,
            ``group``).
        labels: The label vocabulary in id order (``None`` for real values).
        ids: Row ids, in the order of ``rows``.
        rows: The scores of each row.
        positions: What a row's entries are: ``example`` (one per example).
        split: The split the teachers scored.
        combine: How the teachers were averaged (``probs`` or ``logits``).
        teachers: One entry per teacher: its run, task and config hash.
        groups: The group of each row, for ``group`` targets (else ``None``).
        gold: Each row's gold label id or value, where the rows have one (for ``inspect``).
        votes: Each row's label chosen by each teacher (``softmax`` targets of one position
            per row), for the teachers' agreement.
    """

    task: str
    head: str
    soft_targets: str
    labels: list[str] | None
    ids: tuple[str, ...]
    rows: tuple[torch.Tensor, ...]
    positions: str = "example"
    split: str = "train"
    combine: str = "probs"
    teachers: list[dict[str, Any]] = field(default_factory=list)
    groups: tuple[int, ...] | None = None
    gold: tuple[float, ...] | None = None
    votes: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.rows):
            raise ValueError(f"{len(self.ids)} ids for {len(self.rows)} rows")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"task {self.task!r}: repeated row ids")

    def header(self) -> dict[str, Any]:
        """The task's entry of the file's JSON header."""
        return {
            "head": self.head,
            "soft_targets": self.soft_targets,
            "labels": self.labels,
            "positions": self.positions,
            "split": self.split,
            "combine": self.combine,
            "teachers": self.teachers,
            "ids": list(self.ids),
            "groups": None if self.groups is None else list(self.groups),
        }


class SoftTargets:
    """The soft targets of several tasks, looked up by row id.

    Args:
        tasks: The targets of each task.
        source: Where they came from (a file), for messages.
    """

    def __init__(self, tasks: Mapping[str, TaskTargets], *, source: str = "soft targets") -> None:
        self.tasks = dict(tasks)
        self.source = source
        self._index = {name: {row: i for i, row in enumerate(t.ids)} for name, t in self.tasks.items()}

    def save(self, path: Path) -> None:
        """Write the targets to ``path`` (one safetensors file with a JSON header)."""
        tensors: dict[str, torch.Tensor] = {}
        for name, targets in self.tasks.items():
            width = targets.rows[0].shape[-1] if targets.rows else 1
            tensors[f"{name}.values"] = (
                torch.cat([row.float().reshape(-1, width) for row in targets.rows])
                if targets.rows
                else torch.zeros(0, width)
            ).contiguous()
            tensors[f"{name}.lengths"] = torch.tensor(
                [row.shape[0] for row in targets.rows], dtype=torch.long
            )
            if targets.gold is not None:
                tensors[f"{name}.gold"] = torch.tensor(targets.gold, dtype=torch.float64)
            if targets.votes is not None:
                tensors[f"{name}.votes"] = torch.tensor(targets.votes, dtype=torch.long)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "tasks": {n: t.header() for n, t in self.tasks.items()},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        save_file(tensors, str(partial), metadata={"mtdnn": json.dumps(header)})
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> SoftTargets:
        """Read a targets file.

        Raises:
            DataError: The file is missing or is not a soft-targets file of this version.
        """
        if not path.is_file():
            raise DataError("no such soft-targets file", file=str(path))
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as opened:
                metadata = opened.metadata() or {}
            header = json.loads(metadata["mtdnn"])
            tensors = load_file(str(path))
        except (KeyError, ValueError, OSError) as exc:
            raise DataError(f"not a soft-targets file ({exc})", file=str(path)) from exc
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise DataError(
                f"not a {FORMAT} file of version {VERSION} (format {header.get('format')!r}, "
                f"version {header.get('version')!r})",
                file=str(path),
            )
        tasks = {}
        for name, entry in header["tasks"].items():
            values, lengths = tensors[f"{name}.values"], tensors[f"{name}.lengths"].tolist()
            rows = tuple(torch.split(values, lengths)) if lengths else ()
            tasks[name] = TaskTargets(
                task=name,
                head=entry["head"],
                soft_targets=entry["soft_targets"],
                labels=entry["labels"],
                ids=tuple(entry["ids"]),
                rows=rows,
                positions=entry["positions"],
                split=entry["split"],
                combine=entry["combine"],
                teachers=entry["teachers"],
                groups=None if entry["groups"] is None else tuple(entry["groups"]),
                gold=tuple(tensors[f"{name}.gold"].tolist()) if f"{name}.gold" in tensors else None,
                votes=tuple(map(tuple, tensors[f"{name}.votes"].tolist()))
                if f"{name}.votes" in tensors
                else None,
            )
        return cls(tasks, source=str(path))

    def check(self, task: str, *, labels: Sequence[str] | None, soft_targets: str | None) -> TaskTargets:
        """The targets of ``task``, checked against the student's task.

        Raises:
            DataError: The file has no targets for ``task``, its label order differs from the
                student's, or its kind of scores does not fit the student's head.
        """
        if task not in self.tasks:
            raise DataError(
                f"no soft targets for task {task!r}; the file has {sorted(self.tasks)}", file=self.source
            )
        targets = self.tasks[task]
        if targets.labels is not None and labels is not None and list(targets.labels) != list(labels):
            raise DataError(
                f"task {task!r}: the teachers' labels {targets.labels} are not the student's {list(labels)} "
                "in the same order, so soft targets would be matched to the wrong classes",
                file=self.source,
            )
        if soft_targets != targets.soft_targets:
            raise DataError(
                f"task {task!r}: the targets are {targets.soft_targets!r} scores from a {targets.head}, "
                f"and the student's head takes {soft_targets!r} ones",
                file=self.source,
            )
        return targets

    def coverage(self, task: str, ids: Sequence[str]) -> tuple[int, list[str]]:
        """How many of ``ids`` have targets, and the first few that have none."""
        index = self._index[task]
        missing = [row for row in ids if row not in index]
        return len(ids) - len(missing), missing[:5]

    def rows(self, task: str, ids: Sequence[str]) -> list[torch.Tensor]:
        """The targets of the rows ``ids`` of ``task``, in that order.

        Raises:
            DataError: A row has no target (never a silent zero).
        """
        index = self._index[task]
        try:
            return [self.tasks[task].rows[index[row]] for row in ids]
        except KeyError as exc:
            raise DataError(
                f"task {task!r}: no soft target for row {exc.args[0]!r}", file=self.source
            ) from exc


def combine_teachers(
    scores: Sequence[Sequence[torch.Tensor]], *, soft_targets: str, how: Combine, groups: Sequence[int] | None
) -> list[torch.Tensor]:
    """Average several teachers' scores of the same rows into one row each.

    ``logits`` averages the scores themselves; ``probs`` averages the distributions they stand
    for and stores the result as scores again (log-probabilities for ``softmax`` and ``group``,
    logits for ``sigmoid``), so a student reads both the same way. Real values are averaged.

    Args:
        scores: Per teacher, the scores of every row (the same rows in the same order).
        soft_targets: How scores become distributions (``softmax``, ``sigmoid``, ``value``,
            ``group``, ``positions``).
        how: ``probs`` or ``logits``.
        groups: Each row's group, for ``group`` scores.
    """
    if not scores:
        raise ValueError("no teachers to combine")
    counts = {len(rows) for rows in scores}
    if len(counts) != 1:
        raise ValueError(f"the teachers scored different numbers of rows: {sorted(counts)}")
    if how == "logits" or soft_targets == "value" or len(scores) == 1:
        return [torch.stack(list(rows)).mean(dim=0) for rows in zip(*scores, strict=True)]
    if soft_targets == "softmax":
        return [
            torch.stack([torch.softmax(r.float(), dim=-1) for r in rows]).mean(dim=0).log()
            for rows in zip(*scores, strict=True)
        ]
    if soft_targets == "positions":  # each column a distribution over the row's tokens
        return [
            torch.stack([torch.softmax(r.float(), dim=0) for r in rows]).mean(dim=0).log()
            for rows in zip(*scores, strict=True)
        ]
    if soft_targets == "sigmoid":
        means = [
            torch.stack([torch.sigmoid(r.float()) for r in rows]).mean(dim=0)
            for rows in zip(*scores, strict=True)
        ]
        return [torch.logit(mean, eps=1e-7) for mean in means]
    if soft_targets == "group":
        if groups is None:
            raise ValueError("group scores need the rows' groups")
        group = torch.tensor(list(groups))
        per_teacher = [group_log_softmax(torch.cat(list(rows)).reshape(-1), group).exp() for rows in scores]
        mean = torch.stack(per_teacher).mean(dim=0).log()
        return list(mean.reshape(-1, 1, 1))
    raise ValueError(f"unknown kind of soft targets {soft_targets!r}")
