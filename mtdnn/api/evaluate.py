"""Evaluate a trained run on its dev data or on another labelled file."""

from __future__ import annotations

from pathlib import Path

from mtdnn.api.prediction_files import write_predictions
from mtdnn.archive import load_run
from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry
from mtdnn.training.device import select_device
from mtdnn.training.evaluation import check_labelled, predict_task, score_predictions

__all__ = ["evaluate_run"]


def evaluate_run(
    run_dir: Path,
    registry: Registry,
    *,
    tasks: list[str] | None = None,
    data: Path | None = None,
    split: str = "dev",
    device: str = "auto",
    predictions: Path | None = None,
) -> dict[str, dict[str, float]]:
    """Score a run's saved model: every task (or ``tasks``) on ``split``, or one task on ``data``.

    Args:
        run_dir: A directory written by ``mtdnn train``.
        registry: Component registry (with the plugins the run used).
        tasks: Evaluate only these tasks.
        data: A labelled file in the task's format (needs exactly one task).
        split: Which configured file to use when ``data`` is not given: ``dev`` or ``test``.
        device: ``auto`` or a torch device name.
        predictions: Also write each task's predictions into this folder (see
            :func:`mtdnn.api.prediction_files.write_predictions`: CoNLL for sequence labelling,
            SQuAD JSON for extractive QA, JSON lines otherwise).

    Returns:
        Task name to metric name to value.

    Raises:
        ConfigurationError: Unknown task, ``data`` without exactly one task, or no file to score.
    """
    experiment, model = load_run(run_dir, registry)
    names = tasks or sorted(experiment.tasks)
    for name in names:
        if name not in experiment.tasks:
            raise ConfigurationError(
                f"the run has no task {name!r}", hint=f"tasks: {', '.join(sorted(experiment.tasks))}"
            )
    if data is not None and len(names) != 1:
        raise ConfigurationError(
            "--data needs exactly one --task", hint=f"tasks: {', '.join(sorted(experiment.tasks))}"
        )
    target = select_device(device)
    model.to(target)
    results: dict[str, dict[str, float]] = {}
    for name in names:
        task = experiment.tasks[name]
        task_data = task.load(split, experiment.encoder, path=data)
        check_labelled(model, task, task_data)
        result = predict_task(model, task, task_data, device=target)
        results[name] = score_predictions(task, task_data, result)
        if predictions is not None:
            write_predictions(task, task_data, result, predictions)
    return results
