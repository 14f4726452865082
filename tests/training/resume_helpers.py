"""Helpers of the resume tests: a simulated crash, and what two runs are compared on."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from mtdnn.rundir import RunDirectory
from mtdnn.training.callbacks import Callback
from mtdnn.training.checkpoint import latest_checkpoint
from mtdnn.training.state import TrainerControl, TrainerState


class Crash(Callback):
    """Simulates a killed process: raises after a given optimizer step."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        if state.global_step == self.at_step:
            raise KeyboardInterrupt(f"simulated interruption at step {self.at_step}")


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """The model weights of the run's newest checkpoint."""
    checkpoint = latest_checkpoint(RunDirectory(run_dir).checkpoints)
    assert checkpoint is not None
    return load_file(str(checkpoint / "model.safetensors"))


def evaluations(run_dir: Path) -> list[dict[str, object]]:
    """The run's metrics.jsonl records without their timings (which differ between runs)."""
    return [
        {k: v for k, v in r.items() if k not in ("eval_seconds", "train_seconds")}
        for r in RunDirectory(run_dir).read_records()
    ]
