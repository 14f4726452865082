"""Callbacks observe training through typed state and may only flip control flags."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from mtdnn.errors import ConfigurationError
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["Callback", "EarlyStopping", "TrimMemory", "malloc_trim"]

logger = logging.getLogger(__name__)


class Callback:
    """Observes a training run; every method may set flags on ``control`` and nothing else."""

    def setup(self, *, run_dir: Path, is_main: bool) -> None:
        """Called once before training with the run directory; only the ``is_main`` process writes."""

    def on_train_begin(self, state: TrainerState, control: TrainerControl) -> None:
        """Called once before the first step (also after a resume)."""

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Called after every optimizer step."""

    def on_log(self, state: TrainerState, control: TrainerControl, logs: Mapping[str, float]) -> None:
        """Called every ``trainer.log_every`` optimizer steps with the training values since the last call.

        ``logs`` holds the mean ``loss`` and the mean of each scalar the objective reports (e.g.
        ``smart_divergence``, ``distill_soft``) over the batches since the last call, and ``lr``,
        the largest learning rate of the optimizer's parameter groups. The loop computes them
        only when some callback overrides this method.
        """

    def on_evaluate(
        self, state: TrainerState, control: TrainerControl, metrics: dict[str, dict[str, float]]
    ) -> None:
        """Called after each evaluation with ``task -> metric -> value``."""

    def on_epoch_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Called at the end of every epoch, after evaluation."""

    def on_train_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Called once when training ends (normally or by a stop request)."""


class EarlyStopping(Callback):
    """Stops training when the validation score has not improved for ``patience`` evaluations.

    Args:
        patience: Evaluations without improvement that are tolerated.
    """

    def __init__(self, *, patience: int = 3) -> None:
        if patience < 1:
            raise ConfigurationError(f"patience must be at least 1, got {patience}", path="patience")
        self.patience = patience

    def on_evaluate(
        self, state: TrainerState, control: TrainerControl, metrics: dict[str, dict[str, float]]
    ) -> None:
        """Request a stop once the score has stalled for ``patience`` evaluations."""
        if state.evaluations_since_best >= self.patience:
            control.should_stop = True


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)  # type: ignore[no-any-return]
    except OSError:
        return None


class TrimMemory(Callback):
    """Hands the C heap's free memory back to the system every ``every`` optimizer steps.

    Batches of many lengths leave glibc's heap fragmented, so a process's memory grows over the
    first steps and stays high; ``malloc_trim`` returns the free pages. On a 2-core CPU, trimming
    every step lowered the peak by 0.42 GB at 0.80x the speed, every 10 steps by 0.05 GB
    (``bench/bench_memory.py``, docs/performance.md). Where the C library has no ``malloc_trim``
    it logs so and does nothing.

    Args:
        every: Optimizer steps between trims.
    """

    def __init__(self, *, every: int = 10) -> None:
        if every < 1:
            raise ConfigurationError(f"every must be at least 1, got {every}", path="every")
        self.every = every
        self.trim = malloc_trim()
        if self.trim is None:
            logger.info("trim_memory: this C library has no malloc_trim; nothing will be trimmed")

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Trim at every ``every``-th step."""
        if self.trim is not None and state.global_step % self.every == 0:
            self.trim(0)
