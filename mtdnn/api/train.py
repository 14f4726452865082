"""Train an experiment into a run directory (or check it with a dry run)."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy
import torch

from mtdnn.archive import initialize_from_run
from mtdnn.config import evaluate_config
from mtdnn.data import TaskData, make_batch
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment, build_experiment
from mtdnn.heads.base import Head
from mtdnn.hooks import jsonnet_paths
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.callbacks import Callback
from mtdnn.training.checkpoint import latest_checkpoint
from mtdnn.training.device import autocast, resolve_precision, select_device
from mtdnn.training.evaluation import check_validation_metric
from mtdnn.training.loop import Trainer
from mtdnn.training.state import TrainerState

__all__ = [
    "DryRunReport",
    "TrainResult",
    "check_pretraining_config",
    "dry_run",
    "load_config",
    "load_split",
    "train",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """The outcome of a training run.

    Args:
        run_dir: The run directory.
        state: The trainer's final state (best score and epoch, last metrics).
        model: The model as training left it (the best one is saved in ``run_dir/model``).
        removed_checkpoints: Bytes of checkpoints removed at the end (0 when kept, see
            ``trainer.keep_checkpoints_at_end``).
    """

    run_dir: Path
    state: TrainerState
    model: MultiTaskModel
    removed_checkpoints: int = 0


@dataclass(frozen=True)
class DryRunReport:
    """What a dry run built and checked.

    Args:
        tasks: Per task: its labels and, per split read, the batch shape, logits shape and loss.
        parameters: Trainable parameters of the whole model.
    """

    tasks: dict[str, dict[str, Any]]
    parameters: int


def check_pretraining_config(config: Mapping[str, Any], registry: Registry) -> None:
    """Check that a config trains a self-supervised (masked-LM) task, as pre-training needs.

    Raises:
        ConfigurationError: No task has a self-supervised head.
    """
    tasks = config.get("tasks")
    heads = [task.get("head") for task in tasks.values()] if isinstance(tasks, dict) else []
    names = [head if isinstance(head, str) else head.get("type") for head in heads if head is not None]
    known = set(registry.names(Head))
    if not any(
        name in known and getattr(registry.resolve(Head, name), "self_supervised", False) for name in names
    ):
        raise ConfigurationError(
            "pre-training needs a masked-LM task, and no task of this config has a self-supervised head",
            path="tasks",
            hint="add a task with head {type: 'mlm'} and loss {type: 'mlm'} over a text file "
            "(see configs/pretrain/mlm.jsonnet)",
        )


def load_config(
    path: str | Path,
    pm: pluggy.PluginManager,
    *,
    tla_str: Mapping[str, str] | None = None,
    tla_code: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Evaluate a jsonnet experiment with the built-in and plugin import paths."""
    return evaluate_config(
        path, tla_str=dict(tla_str or {}), tla_code=dict(tla_code or {}), import_paths=jsonnet_paths(pm)
    )


def load_split(experiment: Experiment, split: str, *, limit: int | None = None) -> dict[str, TaskData]:
    """Read and featurize ``split`` (train/dev/test) of every task that configures it."""
    data = {}
    for name, task in experiment.tasks.items():
        if task.settings.has(split):
            data[name] = task.load(split, experiment.encoder, limit=limit)
    return data


def train(
    config: dict[str, Any],
    run_dir: Path,
    registry: Registry,
    *,
    plugins: dict[str, Any] | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
) -> TrainResult:
    """Build the experiment of ``config``, train it and write everything into ``run_dir``.

    Args:
        config: The evaluated config.
        run_dir: The run directory (must be new or empty unless ``resume``).
        registry: Component registry.
        plugins: The plugin report saved as ``plugins.json``.
        resume: Continue the interrupted run in ``run_dir`` (the config must be the same).
        callbacks: Extra callbacks (besides those in the config).

    Raises:
        ConfigurationError: ``run_dir`` already holds a run and ``resume`` is off, or the config
            differs from the one being resumed.
    """
    # Every rank checks before joining the process group; rank 0 writes only after all have joined.
    _check_run_dir(run_dir, config, resume=resume)
    experiment = build_experiment(config, registry)
    train_data = load_split(experiment, "train")
    dev_data = load_split(experiment, "dev")
    model = experiment.model()
    if experiment.init_from is not None and not resume:  # a resumed run's checkpoint has the weights
        initialize_from_run(model, experiment.init_from)
    trainer = Trainer(
        model,
        experiment.tasks,
        train_data,
        dev_data,
        run_dir,
        settings=experiment.trainer,
        sampler=experiment.sampler,
        seed=experiment.seed,
        callbacks=callbacks,
    )
    if trainer.dist.is_main and not resume:
        RunDirectory(run_dir).write_run_files(config, plugins or {}, experiment.labels)
    trainer.dist.barrier()
    state = trainer.fit(resume=resume)
    removed = 0
    run = RunDirectory(run_dir)
    if trainer.dist.is_main and not experiment.trainer.keep_checkpoints_at_end and run.has_model():
        removed = _remove_checkpoints(run)
    trainer.dist.barrier()
    return TrainResult(run_dir=run_dir, state=state, model=trainer.model, removed_checkpoints=removed)


def _remove_checkpoints(run: RunDirectory) -> int:
    """Remove the checkpoints of a run that ended; return the bytes freed."""
    if not run.checkpoints.is_dir():
        return 0
    freed = sum(path.stat().st_size for path in run.checkpoints.rglob("*") if path.is_file())
    shutil.rmtree(run.checkpoints)
    logger.info("training ended: removed the checkpoints (%.0f MB); best model: %s", freed / 1e6, run.model)
    return freed


def dry_run(config: dict[str, Any], registry: Registry) -> DryRunReport:
    """Build everything and push one batch of each configured file through the model, untrained.

    Checks what a real run would trip over first: every component builds, every train and dev
    file reads and featurizes, the validation metric exists, the objective accepts the tasks it
    trains, and the configured device and precision run a forward pass and the loss.
    """
    experiment = build_experiment(config, registry)
    settings = experiment.trainer
    dev_tasks = [name for name, task in experiment.tasks.items() if task.settings.dev is not None]
    check_validation_metric(experiment.tasks, dev_tasks, settings.validation_metric)
    training = {name: 1 for name, task in experiment.tasks.items() if task.settings.has("train")}
    if training:  # a sampler checks its options against the tasks when it plans (e.g. main_aux's main)
        experiment.sampler.plan(training, epoch=0, seed=experiment.seed, total_epochs=settings.epochs)
    device = select_device(settings.device)
    precision = resolve_precision(device, settings.precision, fp32_reason=settings.objective.fp32_reason())
    model = experiment.model()
    if experiment.init_from is not None:
        initialize_from_run(model, experiment.init_from)
    model.to(device)
    model.eval()
    trained = {name: task for name, task in experiment.tasks.items() if name in training}
    settings.objective.setup(model, tasks=trained, total_steps=1)  # e.g. r_drop checks the heads
    optimizer = settings.optimizer.create(model)  # betas, eps and learning rates reach torch here
    settings.scheduler.create(optimizer, total_steps=1)
    first = {
        name: task.load("train", experiment.encoder, limit=task.settings.batch_size)
        for name, task in trained.items()
    }
    settings.objective.check_data(first)  # e.g. distillation: the rows have soft targets
    report: dict[str, dict[str, Any]] = {}
    for name, task in experiment.tasks.items():
        splits = [split for split in ("train", "dev") if task.settings.has(split)]
        if not splits:
            raise ConfigurationError("the task has neither a 'train' nor a 'dev' file", path=f"tasks.{name}")
        report[name] = {"labels": task.labels}
        for split in splits:
            data = (
                first[name]
                if split == "train"
                else task.load(split, experiment.encoder, limit=task.settings.batch_size)
            )
            batch = model.prepare(make_batch(data, range(len(data)), experiment.encoder).to(device))
            with torch.no_grad(), autocast(device, precision):
                output = model(batch)
                labelled = batch.labels is not None or task.head.self_supervised
                loss = task.settings.loss(output, batch) if labelled else None
            report[name][split] = {
                "batch": list(batch.inputs["input_ids"].shape),
                "logits": list(output.logits.shape),
                "loss": None if loss is None else round(float(loss), 4),
            }
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return DryRunReport(tasks=report, parameters=parameters)


def _check_run_dir(run_dir: Path, config: dict[str, Any], *, resume: bool) -> None:
    run = RunDirectory(run_dir)
    run.check_writable()  # a read-only or full folder fails now, not after an epoch
    saved = run.config
    if resume:
        if not saved.is_file():
            raise ConfigurationError(
                f"cannot resume: {str(run_dir)!r} holds no run", hint="drop --resume to start one"
            )
        records = run.read_records()
        if latest_checkpoint(run.checkpoints) is None and run.has_model() and records:
            raise ConfigurationError(
                f"nothing to resume: {str(run_dir)!r} finished (epoch {records[-1]['epoch']}) and its "
                "checkpoints were removed at the end; the best model is in model/",
                hint="start a new run directory to train again (trainer.keep_checkpoints_at_end keeps them)",
            )
        if json.loads(saved.read_text()) != json.loads(json.dumps(config)):
            raise ConfigurationError(
                "cannot resume: the config differs from the one the run was started with",
                hint=f"compare with {saved}, or start a new run directory",
            )
    elif run.never_trained() and saved.is_file():
        logger.warning(
            "%s holds a run that stopped before it trained (no checkpoint, model or metrics); "
            "starting it again",
            run_dir,
        )
    elif run.has_run_files():
        raise ConfigurationError(
            f"the run directory {str(run_dir)!r} is not empty",
            hint="use --resume to continue it, or choose a new directory",
        )
