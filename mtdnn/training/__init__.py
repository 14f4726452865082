"""Training: optimizers, schedules, callbacks, checkpoints and the loop."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry
from mtdnn.training.callbacks import Callback, EarlyStopping
from mtdnn.training.objective import Objective, RDropObjective, TaskLossObjective
from mtdnn.training.optim import Adamax, AdamW, ConstantSchedule, LinearSchedule, Optimizer, Scheduler
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = [
    "AdamW",
    "Adamax",
    "Callback",
    "ConstantSchedule",
    "EarlyStopping",
    "LinearSchedule",
    "Objective",
    "Optimizer",
    "RDropObjective",
    "Scheduler",
    "TaskLossObjective",
    "TrainerControl",
    "TrainerState",
]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in optimizers, schedules, callbacks and objectives."""
    registry.add(Optimizer, "adamw", AdamW)
    registry.add(Optimizer, "adamax", Adamax)
    registry.add(Scheduler, "linear", LinearSchedule)
    registry.add(Scheduler, "constant", ConstantSchedule)
    registry.add(Callback, "early_stopping", EarlyStopping)
    registry.add(Objective, "task_loss", TaskLossObjective)
    registry.add(Objective, "r_drop", RDropObjective)
