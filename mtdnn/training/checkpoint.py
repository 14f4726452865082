"""Atomic, resumable checkpoints: weights in safetensors, the rest loaded without unpickling code."""

from __future__ import annotations

import json
import logging
import pickle
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mtdnn.errors import ConfigurationError
from mtdnn.rundir import atomic_directory, verify_checksums, write_checksums
from mtdnn.samplers.base import TaskSampler
from mtdnn.training.averages import RunningMeans
from mtdnn.training.objective import Objective
from mtdnn.training.state import TrainerState

__all__ = [
    "Checkpoint",
    "TrainingParts",
    "latest_checkpoint",
    "load_checkpoint",
    "restore_training",
    "save_checkpoint",
    "save_training",
]

logger = logging.getLogger(__name__)

_PREFIX = "step_"
_OBJECTIVE = "objective.safetensors"


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly where it stopped.

    Args:
        trainer: The trainer state and sampler state (JSON).
        optimizer: The optimizer's state dict.
        scheduler: The scheduler's state dict.
        scaler: The gradient scaler's state dict.
        rng: Random-number-generator states (torch CPU, CUDA, Python).
        objective: The tensors the training objective declares as its state (e.g. an EMA copy of
            the model); empty for an objective without state.
    """

    trainer: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any]
    rng: dict[str, Any]
    objective: dict[str, torch.Tensor] = field(default_factory=dict)


def rng_state() -> dict[str, Any]:
    """The current states of torch's and Python's generators."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(directory: Path, model: nn.Module, checkpoint: Checkpoint, *, keep: int) -> Path:
    """Write a checkpoint for ``checkpoint.trainer['state']['global_step']`` atomically.

    Returns:
        The checkpoint folder. Older checkpoints beyond the newest ``keep`` are removed.
    """
    step = int(checkpoint.trainer["state"]["global_step"])
    target = directory / f"{_PREFIX}{step:09d}"
    with atomic_directory(target) as tmp:
        save_file(
            {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()},
            str(tmp / "model.safetensors"),
        )
        torch.save(
            {
                "optimizer": checkpoint.optimizer,
                "scheduler": checkpoint.scheduler,
                "scaler": checkpoint.scaler,
                "rng": checkpoint.rng,
            },
            tmp / "training.pt",
        )
        (tmp / "trainer.json").write_text(json.dumps(checkpoint.trainer, indent=2))
        if checkpoint.objective:
            save_file(
                {k: v.detach().contiguous().cpu() for k, v in checkpoint.objective.items()},
                str(tmp / _OBJECTIVE),
            )
        write_checksums(tmp)
    for stale in _checkpoints(directory)[:-keep] if keep > 0 else []:
        shutil.rmtree(stale, ignore_errors=True)
    logger.info("checkpoint written: %s", target)
    return target


def _newest_loadable(directory: Path, model: nn.Module, device: torch.device) -> tuple[Path, Checkpoint]:
    """The newest checkpoint that loads whole, falling back past damaged ones."""
    found = _checkpoints(directory)
    if not found:
        raise ConfigurationError(f"nothing to resume: no checkpoint in {directory}")
    problems = []
    for path in reversed(found):
        try:
            return path, load_checkpoint(path, model, device)
        except (ConfigurationError, OSError, RuntimeError, ValueError, KeyError, EOFError) as exc:
            problems.append(f"{path.name}: {exc}")
            logger.warning("checkpoint %s cannot be loaded (%s); trying an older one", path, exc)
    raise ConfigurationError(
        f"no checkpoint in {directory} can be loaded: " + "; ".join(problems),
        hint="start the run again in a new directory",
    )


def _checkpoints(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_dir() and p.name.startswith(_PREFIX) and p.name[len(_PREFIX) :].isdigit()
    )


def latest_checkpoint(directory: Path) -> Path | None:
    """The newest complete checkpoint folder in ``directory``, if any."""
    found = _checkpoints(directory)
    return found[-1] if found else None


def load_checkpoint(path: Path, model: nn.Module, device: torch.device) -> Checkpoint:
    """Load model weights into ``model`` and return the rest of the checkpoint.

    The files are checked against the checkpoint's checksums first (where it has them), and
    ``training.pt`` is read with ``weights_only=True``: tensors and plain containers only.

    Raises:
        ConfigurationError: A file is damaged, missing or refused (one that would need
            unpickling Python objects, which can run code); the message names it.
    """
    verify_checksums(path)
    model.load_state_dict(load_file(str(path / "model.safetensors"), device=str(device)))
    blob = _load_tensors(path / "training.pt")
    trainer = json.loads((path / "trainer.json").read_text())
    objective = path / _OBJECTIVE
    return Checkpoint(
        trainer=trainer,
        optimizer=blob["optimizer"],
        scheduler=blob["scheduler"],
        scaler=blob["scaler"],
        rng=blob["rng"],
        objective=load_file(str(objective), device=str(device)) if objective.is_file() else {},
    )


def _load_tensors(path: Path) -> Any:
    """``torch.load`` of tensors and plain values only; anything else is refused with the reason."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ConfigurationError(
            f"{str(path)!r} is refused: it holds Python objects other than tensors and plain values, "
            "and unpickling them could run code (mtdnn writes none); "
            f"{str(exc).splitlines()[0][:160]}"
        ) from exc


@dataclass
class TrainingParts:
    """Everything a checkpoint captures besides the trainer's state.

    Args:
        model: The model being trained.
        optimizer: Its optimizer.
        scheduler: The learning-rate schedule.
        scaler: The gradient scaler (fp16).
        sampler: The task sampler (its state is JSON).
        objective: The training objective (its declared tensors).
        averages: The running means of the loss and the objective's scalars since the last
            evaluation, so a resumed run reports what an uninterrupted one does.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    sampler: TaskSampler
    objective: Objective
    averages: RunningMeans


def save_training(directory: Path, parts: TrainingParts, state: TrainerState, *, keep: int) -> Path:
    """Write a checkpoint of ``parts`` at ``state`` into ``directory`` (see :func:`save_checkpoint`)."""
    checkpoint = Checkpoint(
        trainer={
            "state": state.to_json(),
            "sampler": parts.sampler.state_dict(),
            "averages": parts.averages.state_dict(),
        },
        optimizer=parts.optimizer.state_dict(),
        scheduler=parts.scheduler.state_dict(),
        scaler=parts.scaler.state_dict(),
        rng=rng_state(),
        objective=parts.objective.state_dict(),
    )
    return save_checkpoint(directory, parts.model, checkpoint, keep=keep)


def restore_training(directory: Path, parts: TrainingParts, device: torch.device) -> TrainerState:
    """Load the newest complete checkpoint in ``directory`` into ``parts`` and return its trainer state.

    A damaged newest checkpoint (a file cut short, changed or missing) is skipped with a warning
    that names it, and the next older one is used.

    Raises:
        ConfigurationError: ``directory`` holds no checkpoint, or none that loads (each one's
            problem is listed).
    """
    path, checkpoint = _newest_loadable(directory, parts.model, device)
    parts.optimizer.load_state_dict(checkpoint.optimizer)
    parts.scheduler.load_state_dict(checkpoint.scheduler)
    parts.scaler.load_state_dict(checkpoint.scaler)
    parts.sampler.load_state_dict(checkpoint.trainer["sampler"])
    parts.averages.load_state_dict(checkpoint.trainer.get("averages", {"sums": {}, "counts": {}}), device)
    parts.objective.load_state_dict(checkpoint.objective)
    restore_rng(checkpoint.rng)
    state = TrainerState.from_json(checkpoint.trainer["state"])
    logger.info("resumed from %s (epoch %d, step %d)", path, state.epoch + 1, state.global_step)
    return state
