"""An experiment assembled from an evaluated config: encoder, tasks, sampler, trainer, seed."""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any

import torch

from mtdnn.config import build
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.samplers.base import TaskSampler
from mtdnn.samplers.shuffle_all import ShuffleAllSampler
from mtdnn.task import Task, TaskSettings, build_head, training_texts
from mtdnn.training.settings import TrainerSettings

__all__ = ["Experiment", "ExperimentConfig", "build_experiment", "seed_everything"]


class ExperimentConfig:
    """The top level of an experiment config: its keys are this signature.

    Components whose construction depends on run-time facts or on the seed stay configs here and
    are built by :func:`build_experiment` in a fixed order: the encoder after the seed is set,
    and the heads after the encoder.

    Args:
        encoder: The shared encoder, e.g. ``{type: 'hf', model: 'all_minilm_l6_v2'}``.
        tasks: Task name to task: reader, head, loss, metrics, train, dev, ...
        sampler: Which task each mini-batch comes from (default ``shuffle_all``, Algorithm 1).
        trainer: Epochs, optimizer, scheduler, objective, validation metric, ...
        seed: The random seed (the initial weights, the batches, dropout).
        init_from: A run directory whose encoder (and same-named heads) this run starts from.
    """

    def __init__(
        self,
        *,
        encoder: dict[str, Any] | str,
        tasks: dict[str, TaskSettings],
        sampler: TaskSampler | None = None,
        trainer: TrainerSettings | None = None,
        seed: int = 13,
        init_from: Path | None = None,
    ) -> None:
        if not tasks:
            raise ConfigurationError("an experiment needs at least one task", path="tasks")
        self.encoder = encoder
        self.tasks = tasks
        self.sampler = sampler if sampler is not None else ShuffleAllSampler()
        self.trainer = trainer if trainer is not None else TrainerSettings()
        self.seed = seed
        self.init_from = init_from


class Experiment:
    """Everything a config describes, built and ready to train."""

    def __init__(
        self,
        *,
        encoder: Encoder,
        tasks: dict[str, Task],
        sampler: TaskSampler,
        trainer: TrainerSettings,
        seed: int,
        init_from: Path | None = None,
    ) -> None:
        self.encoder = encoder
        self.tasks = tasks
        self.sampler = sampler
        self.trainer = trainer
        self.seed = seed
        self.init_from = init_from

    def model(self) -> MultiTaskModel:
        """The multi-task model over the experiment's encoder and heads."""
        return MultiTaskModel(self.encoder, {name: task.head for name, task in self.tasks.items()})

    @property
    def labels(self) -> dict[str, list[str] | None]:
        """Each task's label vocabulary (``None`` for real-valued tasks)."""
        return {name: task.labels for name, task in self.tasks.items()}


def seed_everything(seed: int) -> None:
    """Seed Python's and torch's generators (CPU and all GPUs)."""
    random.seed(seed)
    torch.manual_seed(seed)


def _text_sources(name: str, settings: dict[str, TaskSettings]) -> dict[str, TaskSettings] | None:
    """The settings of the tasks whose texts task ``name`` trains on (``texts_from``), checked."""
    wanted = settings[name].texts_from
    if wanted is None:
        return None
    sources = {}
    for other in wanted:
        if other not in settings or other == name:
            raise ConfigurationError(
                f"texts_from names {other!r}, which is not another task of this config",
                path=f"tasks.{name}.texts_from",
                hint=f"tasks: {', '.join(t for t in settings if t != name)}",
            )
        if settings[other].train is None:
            raise ConfigurationError(
                f"texts_from names {other!r}, which has no 'train' file", path=f"tasks.{name}.texts_from"
            )
        sources[other] = settings[other]
    return sources


def build_experiment(config: dict[str, Any], registry: Registry) -> Experiment:
    """Build an experiment from an evaluated config.

    The top level is checked against :class:`ExperimentConfig` (unknown keys, types) and each
    task's settings (reader, loss, metrics), the sampler and the trainer settings are built
    with it. Then the seed is set, and the encoder and the heads are built in that order, so the
    same config and seed give the same initial weights. The encoder receives ``corpus`` when
    its constructor declares it: a zero-argument callable that yields the texts of every task's
    training file (see :func:`~mtdnn.task.training_texts`), read only if called, e.g. to build
    a vocabulary. Any component that declares ``registry`` receives the registry (online
    distillation rebuilds its teacher runs with it).

    Raises:
        ConfigurationError: Any error in the config; the message names its path.
    """
    root: ExperimentConfig = build(registry, ExperimentConfig, config, path="", registry=registry)
    seed_everything(root.seed)
    settings = root.tasks
    for each in settings.values():
        each.collect_labels()
    encoder = build(
        registry,
        Encoder,
        root.encoder,
        path="encoder",
        corpus=functools.partial(training_texts, settings),
    )
    tasks = {
        name: Task(
            name, each, build_head(registry, name, each, encoder), text_sources=_text_sources(name, settings)
        )
        for name, each in settings.items()
    }
    return Experiment(
        encoder=encoder,
        tasks=tasks,
        sampler=root.sampler,
        trainer=root.trainer,
        seed=root.seed,
        init_from=root.init_from,
    )
