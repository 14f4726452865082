"""The hook that registers the built-in optimizers, schedules, callbacks and objectives.

``mtdnn.training`` (and torch with it) is imported only when the hook runs, so commands that build no
registry (``mtdnn --help``) start fast.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in optimizers, schedules, callbacks and objectives."""
    from mtdnn.training import (
        Adamax,
        AdamW,
        Callback,
        ConstantSchedule,
        EarlyStopping,
        LinearSchedule,
        Objective,
        Optimizer,
        RDropObjective,
        Scheduler,
        TaskLossObjective,
    )

    registry.add(Optimizer, "adamw", AdamW)
    registry.add(Optimizer, "adamax", Adamax)
    registry.add(Scheduler, "linear", LinearSchedule)
    registry.add(Scheduler, "constant", ConstantSchedule)
    registry.add(Callback, "early_stopping", EarlyStopping)
    registry.add(Objective, "task_loss", TaskLossObjective)
    registry.add(Objective, "r_drop", RDropObjective)
