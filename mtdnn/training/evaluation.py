"""Run a model over a task's data: predictions, probabilities and metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from mtdnn.data import TaskData, batch_indices, make_batch
from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel
from mtdnn.task import Task
from mtdnn.training.device import Autocast, autocast
from mtdnn.training.distributed import DistributedContext
from mtdnn.types import HeadOutput, TaskBatch

__all__ = [
    "TaskPredictions",
    "check_labelled",
    "check_validation_metric",
    "evaluate_task",
    "evaluate_tasks",
    "predict_task",
    "score_predictions",
    "score_rows",
    "validation_score",
]


@dataclass(frozen=True)
class TaskPredictions:
    """A task's predictions in the order of its data file.

    Args:
        ids: Example ids.
        predictions: One prediction per example, of the type the task's head decodes (a
            :class:`~mtdnn.types.LabelPrediction`, the tags of a sentence, an answer span, ...).
    """

    ids: list[str]
    predictions: list[Any]


def predict_task(
    model: MultiTaskModel,
    task: Task,
    data: TaskData,
    *,
    device: torch.device,
    precision: Autocast = "fp32",
    dist: DistributedContext | None = None,
) -> TaskPredictions:
    """Predict every example of ``data`` (batches sorted by length, results in file order).

    Examples that share a group (ranking candidates) are always predicted in the same batch. The
    head scores every row (e.g. the windows of long sentences), then decodes the rows into one
    prediction per example.

    Under ``torchrun`` (``dist`` with several processes) each rank runs every ``world_size``-th
    batch, and the rows' scores are gathered to every rank, which then decode and score the
    same predictions: the dev set is run through the model once, not once per rank.
    """
    head = model.head(task.name)
    scores = score_rows(model, task, data, head.row_scores, device=device, precision=precision, dist=dist)
    return TaskPredictions([example.id for example in data.examples], head.decode(data, scores))


@torch.no_grad()
def score_rows(
    model: MultiTaskModel,
    task: Task,
    data: TaskData,
    scorer: Callable[[HeadOutput, TaskBatch], list[torch.Tensor]],
    *,
    device: torch.device,
    precision: Autocast = "fp32",
    dist: DistributedContext | None = None,
) -> list[torch.Tensor]:
    """Run the model in eval mode over every row of ``data`` and return ``scorer``'s scores, in row order.

    ``scorer`` turns a batch's output into one CPU tensor per row: the head's ``row_scores`` for
    predictions, its ``teacher_scores`` for soft targets. Batching and ``dist`` as for
    :func:`predict_task`.
    """
    was_training = model.training
    model.eval()
    order: list[int] = []
    row_scores: list[torch.Tensor] = []
    batches = list(batch_indices(data.lengths, task.settings.eval_batch_size, groups=data.groups))
    if dist is not None:  # one process: rank 0 of 1 takes every batch
        batches = batches[dist.rank :: dist.world_size]
    for indices in batches:
        batch = model.prepare(make_batch(data, indices, model.encoder).to(device))
        with autocast(device, precision):
            output = model(batch)
        row_scores.extend(scorer(output, batch))
        order.extend(indices)
    model.train(was_training)
    if dist is not None:
        order, row_scores = dist.gather_rows(order, row_scores)
    in_row_order: list[torch.Tensor] = [torch.empty(0)] * len(order)
    for position, row in enumerate(order):
        in_row_order[row] = row_scores[position]
    return in_row_order


def evaluate_task(
    model: MultiTaskModel,
    task: Task,
    data: TaskData,
    *,
    device: torch.device,
    precision: Autocast = "fp32",
    dist: DistributedContext | None = None,
) -> dict[str, float]:
    """Score ``model`` on a labelled task file with the task's metrics (see :func:`score_predictions`).

    Raises:
        ConfigurationError: The data has no labels to score against.
    """
    check_labelled(model, task, data)
    predictions = predict_task(model, task, data, device=device, precision=precision, dist=dist)
    return score_predictions(task, data, predictions)


def evaluate_tasks(
    model: MultiTaskModel,
    tasks: Mapping[str, Task],
    data: Mapping[str, TaskData],
    *,
    device: torch.device,
    precision: Autocast = "fp32",
    dist: DistributedContext | None = None,
) -> dict[str, dict[str, float]]:
    """Score every task of ``data`` (in name order): task name to metric name to value.

    Under ``torchrun`` pass ``dist``: the ranks share the work (see :func:`predict_task`).
    """
    return {
        name: evaluate_task(model, tasks[name], task_data, device=device, precision=precision, dist=dist)
        for name, task_data in sorted(data.items())
    }


def check_labelled(model: MultiTaskModel, task: Task, data: TaskData) -> None:
    """Fail unless ``data`` can be scored: it is labelled, or the head is self-supervised.

    Raises:
        ConfigurationError: The data has no labels to score against.
    """
    if data.targets is None and not model.head(task.name).self_supervised:
        raise ConfigurationError(f"task {task.name!r}: the file has no labels, so it cannot be evaluated")


def score_predictions(task: Task, data: TaskData, result: TaskPredictions) -> dict[str, float]:
    """Score a task's predictions of ``data`` with the task's metrics; the head feeds each metric."""
    scores: dict[str, float] = {}
    for metric in task.settings.metrics:
        metric.reset()
        task.head.update_metric(metric, data, result.predictions)
        scores.update(metric.compute())
    return scores


def validation_score(metrics: Mapping[str, Mapping[str, float]], validation_metric: str) -> float:
    """The number that selects the best model: ``mean`` of main scores, or ``TASK.METRIC``.

    A task's main score is the first value its metrics return.

    Raises:
        ConfigurationError: ``validation_metric`` names a task or metric that was not computed.
    """
    if validation_metric == "mean":
        mains = [next(iter(scores.values())) for scores in metrics.values() if scores]
        return sum(mains) / len(mains) if mains else float("nan")
    task, _, name = validation_metric.partition(".")
    if task not in metrics or name not in metrics[task]:
        available = [f"{t}.{m}" for t, scores in metrics.items() for m in scores]
        raise ConfigurationError(
            f"validation metric {validation_metric!r} was not computed",
            path="trainer.validation_metric",
            hint=f"use 'mean' or one of: {', '.join(available)}",
        )
    return metrics[task][name]


def check_validation_metric(
    tasks: Mapping[str, Task], dev_tasks: Iterable[str], validation_metric: str
) -> None:
    """Fail before training if ``validation_metric`` names a task or metric that will not be computed.

    Raises:
        ConfigurationError: The task has no dev file or does not compute that metric.
    """
    expected: dict[str, dict[str, float]] = {}
    for name in dev_tasks:
        keys: dict[str, float] = {}
        for metric in tasks[name].settings.metrics:
            metric.reset()
            keys.update(dict.fromkeys(metric.compute(), 0.0))
        expected[name] = keys
    if expected:
        validation_score(expected, validation_metric)
