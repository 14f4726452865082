"""The component kinds that the core declares, in the order the registry lists them."""

from __future__ import annotations

from mtdnn.encoders.base import Encoder
from mtdnn.encoders.pretrained import PretrainedModel
from mtdnn.heads.base import Head
from mtdnn.losses.base import Loss
from mtdnn.metrics.base import Metric
from mtdnn.readers.base import Reader
from mtdnn.samplers.base import TaskSampler
from mtdnn.training.callbacks import Callback
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
)
