"""The component kinds that the core declares.

The built-in plugin :mod:`mtdnn.builtin.kinds` adds them to every registry through the same hook
as every component, first (``tryfirst``), so every kind exists before any component is added.
"""

from __future__ import annotations

from mtdnn.encoders.base import Encoder
from mtdnn.encoders.pretrained import PretrainedModel
from mtdnn.heads.base import Head
from mtdnn.losses.base import Loss
from mtdnn.metrics.base import Metric
from mtdnn.readers.base import Reader
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
