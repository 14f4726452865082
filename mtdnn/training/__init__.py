"""Training: optimizers, schedules, callbacks, checkpoints and the loop."""

from __future__ import annotations

from mtdnn.training.callbacks import Callback, EarlyStopping, TrimMemory
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
    "TrimMemory",
]
