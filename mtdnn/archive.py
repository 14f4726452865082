"""The run directory: evaluated config, plugin versions, labels, and the trained model."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from mtdnn.encoders.base import ENCODER_WEIGHTS, Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment, build_experiment
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.training.checkpoint import atomic_directory

__all__ = ["InitReport", "initialize_from_run", "load_run", "read_config", "save_model", "write_run_files"]

logger = logging.getLogger(__name__)

CONFIG = "config.json"
PLUGINS = "plugins.json"
LABELS = "labels.json"
MODEL = "model"
HEADS = "heads.safetensors"
ENCODER = "encoder"


def write_run_files(
    run_dir: Path, config: dict[str, Any], plugins: dict[str, Any], experiment: Experiment
) -> None:
    """Write ``config.json``, ``plugins.json`` and ``labels.json`` into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    (run_dir / PLUGINS).write_text(json.dumps(plugins, indent=2) + "\n")
    (run_dir / LABELS).write_text(json.dumps(experiment.labels, indent=2) + "\n")


def save_model(model: MultiTaskModel, run_dir: Path) -> Path:
    """Atomically write ``run_dir/model``: the encoder's own format plus the heads in safetensors."""
    target = run_dir / MODEL
    with atomic_directory(target) as tmp:
        model.encoder.save_pretrained(tmp / ENCODER)
        heads = {k: v.detach().contiguous().cpu() for k, v in model.heads.state_dict().items()}
        save_file(heads, str(tmp / HEADS))
    return target


def read_config(run_dir: Path) -> dict[str, Any]:
    """The evaluated config saved with a run.

    Raises:
        ConfigurationError: ``run_dir`` is not a run directory.
    """
    path = run_dir / CONFIG
    if not path.is_file():
        raise ConfigurationError(
            f"{str(run_dir)!r} is not a run directory (no {CONFIG})",
            hint="pass the -s folder of `mtdnn train`",
        )
    config: dict[str, Any] = json.loads(path.read_text())
    return config


def load_run(run_dir: Path, registry: Registry) -> tuple[Experiment, MultiTaskModel]:
    """Rebuild a trained run's experiment and model from its directory (no unpickling).

    The encoder is rebuilt from ``model/encoder`` (the encoder class decides how, through
    :meth:`Encoder.archive_params`) and the heads' weights come from ``model/heads.safetensors``.
    Each task's label vocabulary comes from ``labels.json``, so a run whose reader collects its
    labels from the training file (``labels_from``) loads where that file is absent.

    Raises:
        ConfigurationError: The run has no saved model yet.
    """
    config = read_config(run_dir)
    model_dir = run_dir / MODEL
    if not (model_dir / HEADS).is_file():
        raise ConfigurationError(f"{str(run_dir)!r} has no trained model yet (no {MODEL}/{HEADS})")
    params = config["encoder"] if isinstance(config["encoder"], dict) else {"type": config["encoder"]}
    encoder_cls: type[Encoder] = registry.resolve(Encoder, params["type"], path="encoder.type")
    archived = {**config, "encoder": encoder_cls.archive_params(params, model_dir / ENCODER)}
    saved_labels = json.loads((run_dir / LABELS).read_text()) if (run_dir / LABELS).is_file() else {}
    archived["tasks"] = {
        name: {**task, "labels": saved_labels[name]}
        if isinstance(task, dict) and "labels" not in task and saved_labels.get(name) is not None
        else task
        for name, task in config["tasks"].items()
    }
    experiment = build_experiment(archived, registry)
    model = experiment.model()
    weights = model_dir / ENCODER / ENCODER_WEIGHTS
    if weights.is_file():
        model.encoder.load_state_dict(load_file(str(weights)))
    model.heads.load_state_dict(load_file(str(model_dir / HEADS)))
    model.eval()
    return experiment, model


@dataclass(frozen=True)
class InitReport:
    """What :func:`initialize_from_run` took over from the source run.

    Args:
        source: The source run directory.
        heads: Tasks whose head weights were copied.
        skipped: Tasks of this model whose head was not copied, with the reason.
    """

    source: Path
    heads: list[str]
    skipped: dict[str, str]


def initialize_from_run(model: MultiTaskModel, source: Path) -> InitReport:
    """Start ``model`` from another run: its encoder, and the heads of tasks with the same name.

    This is MT-DNN's multi-stage training: refine an encoder with multi-task learning, then
    fine-tune it (and, where the task names match, its heads) on single tasks. A head is copied
    only when every weight has the same shape (same label count).

    Raises:
        ConfigurationError: ``source`` has no saved model, or its encoder does not fit.
    """
    model_dir = source / MODEL
    if not (model_dir / HEADS).is_file():
        raise ConfigurationError(
            f"{str(source)!r} has no trained model (no {MODEL}/{HEADS})", path="init_from"
        )
    model.encoder.load_pretrained(model_dir / ENCODER)
    saved = load_file(str(model_dir / HEADS))
    copied, skipped = [], {}
    for task, head in model.heads.items():
        prefix = f"{task}."
        weights = {key[len(prefix) :]: value for key, value in saved.items() if key.startswith(prefix)}
        own = head.state_dict()
        if not weights:
            skipped[task] = "the source run has no such task"
        elif weights.keys() != own.keys() or any(weights[k].shape != own[k].shape for k in own):
            skipped[task] = "the head's shape differs (another label count or head type)"
        else:
            head.load_state_dict(weights)
            copied.append(task)
    logger.info("initialised from %s: encoder, heads %s; skipped %s", source, copied, skipped)
    return InitReport(source=source, heads=copied, skipped=skipped)
