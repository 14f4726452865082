"""The component kinds that the core declares, registered through the same hook as every component.

This module is a built-in plugin (see :data:`mtdnn.hooks.BUILTIN_PLUGINS`): its ``mtdnn_register``
runs first (``tryfirst``), so every kind exists before any package or plugin adds a component.
"""

from __future__ import annotations

from mtdnn.encoders.base import Encoder
from mtdnn.encoders.pretrained import PretrainedModel
from mtdnn.heads.base import Head
from mtdnn.hooks.markers import hookimpl
from mtdnn.losses.base import Loss
from mtdnn.metrics.base import Metric
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn.samplers.base import TaskSampler
from mtdnn.training.callbacks import Callback
from mtdnn.training.objective import Objective
from mtdnn.training.optim import Optimizer, Scheduler

CORE_KINDS: tuple[tuple[str, type], ...] = (
    ("encoder", Encoder),
    ("pretrained", PretrainedModel),
    ("head", Head),
    ("loss", Loss),
    ("metric", Metric),
    ("reader", Reader),
    ("sampler", TaskSampler),
    ("optimizer", Optimizer),
    ("scheduler", Scheduler),
    ("callback", Callback),
    ("objective", Objective),
)
"""The core kinds, in the order the registry lists them."""


@hookimpl(tryfirst=True)
def mtdnn_register(registry: Registry) -> None:
    """Add the core kinds (before any component is added)."""
    for name, kind in CORE_KINDS:
        registry.add_kind(kind, name)
