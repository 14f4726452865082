"""The run directory: evaluated config, plugin versions, labels, and the trained model."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from mtdnn.encoders.base import ENCODER_WEIGHTS, Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment, build_experiment
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.training.checkpoint import atomic_directory

__all__ = ["load_run", "read_config", "save_model", "write_run_files"]

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
    experiment = build_experiment(archived, registry)
    model = experiment.model()
    weights = model_dir / ENCODER / ENCODER_WEIGHTS
    if weights.is_file():
        model.encoder.load_state_dict(load_file(str(weights)))
    model.heads.load_state_dict(load_file(str(model_dir / HEADS)))
    model.eval()
    return experiment, model
