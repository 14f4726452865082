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
from mtdnn.task import Task, TaskSettings, build_head, build_task_settings, training_texts
from mtdnn.training.settings import TrainerSettings

__all__ = ["TOP_LEVEL_KEYS", "Experiment", "build_experiment", "seed_everything"]

TOP_LEVEL_KEYS = {
    "encoder": "the shared encoder, e.g. {type: 'hf', model: 'all_minilm_l6_v2'}",
    "tasks": "task name -> {reader, head, loss, metrics, train, dev, ...}",
    "sampler": "which task each mini-batch comes from (default shuffle_all)",
    "trainer": "epochs, optimizer, scheduler, validation_metric, ...",
    "seed": "random seed (default 13)",
    "init_from": "a run directory whose encoder (and same-named heads) this run starts from",
}


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

    Components are built in a fixed order after seeding, so the same config and seed give the
    same initial weights: each task's settings (reader, loss, metrics), then the encoder, then the
    heads. The encoder receives ``corpus`` when its constructor declares it: a zero-argument
    callable that yields the texts of every task's training file (see
    :func:`~mtdnn.task.training_texts`), read only if called, e.g. to build a vocabulary.

    Raises:
        ConfigurationError: An unknown or missing top-level key, or any error in a component.
    """
    unknown = sorted(set(config) - set(TOP_LEVEL_KEYS))
    if unknown:
        accepted = "; ".join(f"{key}: {text}" for key, text in TOP_LEVEL_KEYS.items())
        raise ConfigurationError(
            f"unknown top-level key {unknown[0]!r}", path=unknown[0], hint=f"accepted keys: {accepted}"
        )
    for key in ("encoder", "tasks"):
        if key not in config:
            raise ConfigurationError(f"missing required key {key!r}", hint=TOP_LEVEL_KEYS[key])
    seed = config.get("seed", 13)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigurationError(f"seed must be an integer, got {seed!r}", path="seed")
    seed_everything(seed)
    task_configs = config["tasks"]
    if not isinstance(task_configs, dict) or not task_configs:
        raise ConfigurationError("tasks must be a non-empty object of task name -> task", path="tasks")
    settings = {name: build_task_settings(registry, name, params) for name, params in task_configs.items()}
    encoder = build(
        registry,
        Encoder,
        config["encoder"],
        path="encoder",
        corpus=functools.partial(training_texts, settings),
    )
    tasks = {
        name: Task(
            name, each, build_head(registry, name, each, encoder), text_sources=_text_sources(name, settings)
        )
        for name, each in settings.items()
    }
    sampler_config = config.get("sampler")
    sampler = (
        ShuffleAllSampler()
        if sampler_config is None
        else build(registry, TaskSampler, sampler_config, path="sampler")
    )
    trainer = build(registry, TrainerSettings, config.get("trainer", {}), path="trainer")
    init_from = config.get("init_from")
    if init_from is not None and not isinstance(init_from, str):
        raise ConfigurationError(
            f"init_from must be a run directory path, got {init_from!r}", path="init_from"
        )
    return Experiment(
        encoder=encoder,
        tasks=tasks,
        sampler=sampler,
        trainer=trainer,
        seed=seed,
        init_from=Path(init_from) if init_from is not None else None,
    )
