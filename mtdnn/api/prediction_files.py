"""Write a task's predictions next to its gold labels, in the format its head chooses."""

from __future__ import annotations

from pathlib import Path

from mtdnn.data import TaskData
from mtdnn.task import Task
from mtdnn.training.evaluation import TaskPredictions

__all__ = ["write_predictions"]


def write_predictions(task: Task, data: TaskData, result: TaskPredictions, directory: Path) -> Path:
    """Write ``result`` for ``data`` into ``directory``; return the file written.

    The task's head chooses the format (:meth:`~mtdnn.heads.base.Head.write_predictions`): for the
    built-in heads, ``TASK.conll`` for sequence labelling (``word gold predicted`` lines, the input
    of ``conlleval``), ``TASK.json`` for extractive QA (``{question id: answer}``, as the official
    SQuAD scripts read it) and ``TASK.jsonl`` otherwise (``{"id", "prediction", "gold"}``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    return task.head.write_predictions(directory / task.name, data.examples, result.predictions)
