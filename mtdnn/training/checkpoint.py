"""Atomic, resumable checkpoints: weights in safetensors, the rest loaded without unpickling code."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

__all__ = ["Checkpoint", "atomic_directory", "latest_checkpoint", "load_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)

_PREFIX = "step_"


@dataclass
class Checkpoint:
    """Everything needed to continue a run exactly where it stopped.

    Args:
        trainer: The trainer state and sampler state (JSON).
        optimizer: The optimizer's state dict.
        scheduler: The scheduler's state dict.
        scaler: The gradient scaler's state dict.
        rng: Random-number-generator states (torch CPU, CUDA, Python).
    """

    trainer: dict[str, Any]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any]
    rng: dict[str, Any]


def atomic_directory(target: Path) -> _AtomicDirectory:
    """Context manager yielding a temporary folder that replaces ``target`` only on success."""
    return _AtomicDirectory(target)


class _AtomicDirectory:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(target.name + ".tmp")

    def __enter__(self) -> Path:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = self.target.with_name(self.target.name + ".old")
        if self.target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        shutil.rmtree(old, ignore_errors=True)


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
    for stale in _checkpoints(directory)[:-keep] if keep > 0 else []:
        shutil.rmtree(stale, ignore_errors=True)
    logger.info("checkpoint written: %s", target)
    return target


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

    ``training.pt`` is read with ``weights_only=True``: tensors and plain containers only.
    """
    model.load_state_dict(load_file(str(path / "model.safetensors"), device=str(device)))
    blob = torch.load(path / "training.pt", map_location="cpu", weights_only=True)
    trainer = json.loads((path / "trainer.json").read_text())
    return Checkpoint(
        trainer=trainer,
        optimizer=blob["optimizer"],
        scheduler=blob["scheduler"],
        scaler=blob["scaler"],
        rng=blob["rng"],
    )
