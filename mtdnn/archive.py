"""Rebuild a trained run from its directory, or start a new model from one."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file

from mtdnn.encoders.base import ENCODER_WEIGHTS, Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment, build_experiment
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory

__all__ = ["InitReport", "initialize_from_run", "load_run", "missing_plugins"]

logger = logging.getLogger(__name__)


def load_run(run_dir: Path, registry: Registry) -> tuple[Experiment, MultiTaskModel]:
    """Rebuild a trained run's experiment and model from its directory (no unpickling).

    The encoder is rebuilt from the saved encoder folder (the encoder class decides how, through
    :meth:`Encoder.archive_params`) and the heads' weights come from the saved heads. Each
    task's label vocabulary comes from the saved labels, so a run whose reader collects its
    labels from the training file (``labels_from``) loads where that file is absent.

    Raises:
        ConfigurationError: The run has no saved model yet, a file of ``model/`` is damaged,
            missing or unexpected, or ``config.json`` or ``labels.json`` was edited after the
            model was saved (:meth:`RunDirectory.verify_model`).
    """
    run = RunDirectory(run_dir)
    config = run.read_config()
    if not run.has_model():
        raise ConfigurationError(f"{str(run_dir)!r} has no trained model yet (no {run.heads})")
    run.verify_model()
    try:
        params = config["encoder"] if isinstance(config["encoder"], dict) else {"type": config["encoder"]}
        encoder_cls: type[Encoder] = registry.resolve(Encoder, params["type"], path="encoder.type")
        archived = {**config, "encoder": encoder_cls.archive_params(params, run.encoder)}
        saved_labels = run.read_labels()
        archived["tasks"] = {
            name: {**task, "labels": saved_labels[name]}
            if isinstance(task, dict) and "labels" not in task and saved_labels.get(name) is not None
            else task
            for name, task in config["tasks"].items()
        }
        experiment = build_experiment(archived, registry)
    except ConfigurationError as exc:
        missing = missing_plugins(run)
        if not missing:
            raise
        raise ConfigurationError(
            f"{exc.message}; the run was trained with plugins that are not installed here: "
            + ", ".join(missing),
            path=exc.path,
            hint="pip install " + " ".join(f"'{item}'" for item in missing),
        ) from exc
    model = experiment.model()
    weights = run.encoder / ENCODER_WEIGHTS
    try:
        if weights.is_file():
            model.encoder.load_state_dict(load_file(str(weights)))
        model.heads.load_state_dict(load_file(str(run.heads)))
    except (SafetensorError, RuntimeError, OSError) as exc:  # an older run, saved without checksums
        raise ConfigurationError(
            f"the saved model in {str(run.model)!r} cannot be loaded: {str(exc).splitlines()[0]}",
            hint="the files may be damaged; train the run again",
        ) from exc
    model.eval()
    return experiment, model


def missing_plugins(run: RunDirectory) -> list[str]:
    """The installed plugins a run was trained with (its ``plugins.json``) that are not installed now.

    Each as a pip requirement: ``distribution==version``. A recorded version other than the
    installed one is only logged (a warning), since it may well still fit.
    """
    if not run.plugins.is_file():
        return []
    try:
        recorded = json.loads(run.plugins.read_text()).get("plugins", [])
    except (OSError, ValueError, AttributeError):
        return []
    missing = []
    for plugin in recorded:
        name = plugin.get("distribution") if isinstance(plugin, dict) else None
        if not name or plugin.get("source") != "entry_point":
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(f"{name}=={plugin['version']}" if plugin.get("version") else name)
            continue
        if plugin.get("version") and installed != plugin["version"]:
            logger.warning("the run used %s %s; %s is installed", name, plugin["version"], installed)
    return missing


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
    run = RunDirectory(source)
    if not run.has_model():
        raise ConfigurationError(f"{str(source)!r} has no trained model (no {run.heads})", path="init_from")
    run.verify_model()
    model.encoder.load_pretrained(run.encoder)
    saved = load_file(str(run.heads))
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
