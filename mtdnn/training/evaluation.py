"""Run a model over a task's data: predictions, probabilities and metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from mtdnn.data import TaskData, batch_indices, make_batch
from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel
from mtdnn.task import Task
from mtdnn.training.device import Precision, autocast

__all__ = [
    "TaskPredictions",
    "check_labelled",
    "check_validation_metric",
    "evaluate_task",
    "predict_task",
    "score_predictions",
    "validation_score",
]


@dataclass(frozen=True)
class TaskPredictions:
    """A task's predictions in the order of its data file.

    Args:
        ids: Example ids.
        predictions: Predicted label ids or real values ``[N]`` (float for regression), or
            multi-hot vectors ``[N, C]`` (multi-label); empty for a structured head.
        probabilities: Per-label probabilities ``[N, C]`` (``[N, 1]``: the values, for regression);
            empty for a structured head.
        decoded: A structured head's decoded prediction of each example (e.g. one tag per word),
            else ``None``.
    """

    ids: list[str]
    predictions: torch.Tensor
    probabilities: torch.Tensor
    decoded: list[Any] | None = None


@torch.no_grad()
def predict_task(
    model: MultiTaskModel, task: Task, data: TaskData, *, device: torch.device, precision: Precision = "fp32"
) -> TaskPredictions:
    """Predict every example of ``data`` (batches sorted by length, results in file order).

    Examples that share a group (ranking candidates) are always predicted in the same batch. A
    structured head's rows (e.g. the windows of long sentences) are scored, then decoded into one
    prediction per example.
    """
    was_training = model.training
    model.eval()
    order: list[int] = []
    predictions: list[torch.Tensor] = []
    probabilities: list[torch.Tensor] = []
    row_scores: list[torch.Tensor] = []
    head = model.head(task.name)
    for indices in batch_indices(data.lengths, task.settings.eval_batch_size, groups=data.groups):
        batch = model.prepare(make_batch(data, indices, model.encoder).to(device))
        with autocast(device, precision):
            output = model(batch)
        if head.structured:
            row_scores.extend(head.row_scores(output, batch))
        else:
            predictions.append(head.predict(output).cpu())
            probabilities.append(head.probabilities(output).float().cpu())
        order.extend(indices)
    model.train(was_training)
    ids = [example.id for example in data.examples]
    if head.structured:
        in_row_order: list[torch.Tensor] = [torch.empty(0)] * len(order)
        for position, row in enumerate(order):
            in_row_order[row] = row_scores[position]
        empty = torch.empty(0)
        return TaskPredictions(ids, empty, empty, decoded=head.decode(data, in_row_order))
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return TaskPredictions(
        ids=ids,
        predictions=torch.cat(predictions)[inverse],
        probabilities=torch.cat(probabilities)[inverse],
    )


def evaluate_task(
    model: MultiTaskModel, task: Task, data: TaskData, *, device: torch.device, precision: Precision = "fp32"
) -> dict[str, float]:
    """Score ``model`` on a labelled task file with the task's metrics (see :func:`score_predictions`).

    Raises:
        ConfigurationError: The data has no labels to score against.
    """
    check_labelled(model, task, data)
    return score_predictions(task, data, predict_task(model, task, data, device=device, precision=precision))


def check_labelled(model: MultiTaskModel, task: Task, data: TaskData) -> None:
    """Fail unless ``data`` can be scored: it is labelled, or the head is self-supervised.

    Raises:
        ConfigurationError: The data has no labels to score against.
    """
    if data.targets is None and not model.head(task.name).self_supervised:
        raise ConfigurationError(f"task {task.name!r}: the file has no labels, so it cannot be evaluated")


def score_predictions(task: Task, data: TaskData, result: TaskPredictions) -> dict[str, float]:
    """Score a task's predictions of ``data`` with the task's metrics.

    Every metric receives the predictions and targets, the class probabilities as ``scores``
    and, for grouped data, the examples' group ids as ``groups``. A structured head's decoded
    predictions go to its (decoded) metrics with the examples. A self-supervised head (masked-LM)
    scores unlabelled data; its metrics read the head's per-example predictions and receive
    placeholder targets.
    """
    if result.decoded is not None:
        return _score_decoded(task, result.decoded, data)
    targets = torch.zeros(len(data.examples)) if data.targets is None else torch.tensor(data.targets)
    groups = None if data.groups is None else torch.tensor(data.groups)
    scores: dict[str, float] = {}
    for metric in task.settings.metrics:
        metric.reset()
        metric.update(result.predictions, targets, scores=result.probabilities, groups=groups)
        scores.update(metric.compute())
    return scores


def _score_decoded(task: Task, decoded: list[Any], data: TaskData) -> dict[str, float]:
    """Score a structured head's decoded predictions with the task's (decoded) metrics."""
    scores: dict[str, float] = {}
    for metric in task.settings.metrics:
        metric.reset()
        metric.add(decoded, data.examples)  # type: ignore[attr-defined]
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
