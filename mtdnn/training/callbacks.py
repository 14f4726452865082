"""Callbacks observe training through typed state and may only flip control flags."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from mtdnn.errors import ConfigurationError
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["Callback", "EarlyStopping", "TrimMemory", "malloc_trim", "set_mmap_threshold"]

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


def _libc_function(name: str) -> Callable[..., int] | None:
    """A function of the C library by name, or ``None`` where it has none (macOS, musl, Windows)."""
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        return getattr(ctypes.CDLL(library), name, None)  # type: ignore[no-any-return]
    except OSError:
        return None


def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (macOS, musl, Windows)."""
    return _libc_function("malloc_trim")


M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold."""
MAX_MMAP_THRESHOLD = 32 * 1024 * 1024
"""The largest mmap threshold glibc accepts on 64-bit systems (``HEAP_MAX_SIZE / 2``)."""


def set_mmap_threshold(size: int) -> bool:
    """Make glibc serve every block of ``size`` bytes or more with its own ``mmap``.

    Such a block goes back to the system as soon as it is freed, instead of staying in the heap,
    and a fixed threshold stops glibc from raising it as large blocks are freed (its default).
    Process-wide and for the rest of the process. Returns False where the C library has no
    ``mallopt`` or refused the value.
    """
    mallopt = _libc_function("mallopt")
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, size) == 1


class TrimMemory(Callback):
    """Hands the C heap's free memory back to the system, every ``every`` optimizer steps and/or
    as each large block is freed.

    Batches of many lengths leave glibc's heap fragmented, so a process's memory grows over the
    first steps and stays high. ``every``: ``malloc_trim`` returns the heap's free pages every N
    steps. ``mmap_threshold``: from the start of training, blocks of at least that many bytes
    (activations, gradients) get memory of their own from the system and return it when freed
    (:func:`set_mmap_threshold`), so the heap never holds them. Both cost speed: freed memory is
    handed out again by the system, which zeroes every page on first touch. Measured side by side
    in ``bench/bench_memory.py`` (docs/performance.md). Where the C library has neither function
    it logs so and does nothing.

    Args:
        every: Optimizer steps between trims; ``None`` for no trims.
        mmap_threshold: Bytes; ``None`` leaves glibc's own (rising) threshold.
    """

    def __init__(self, *, every: int | None = 10, mmap_threshold: int | None = None) -> None:
        if every is not None and every < 1:
            raise ConfigurationError(f"every must be at least 1 or null, got {every}", path="every")
        if mmap_threshold is not None and not 0 <= mmap_threshold <= MAX_MMAP_THRESHOLD:
            raise ConfigurationError(
                f"mmap_threshold must be between 0 and {MAX_MMAP_THRESHOLD} bytes (32 MiB, glibc's "
                f"largest), got {mmap_threshold}",
                path="mmap_threshold",
            )
        self.every = every
        self.mmap_threshold = mmap_threshold
        self.trim = malloc_trim() if every is not None else None
        if every is not None and self.trim is None:
            logger.info("trim_memory: this C library has no malloc_trim; nothing will be trimmed")

    def setup(self, *, run_dir: Path, is_main: bool) -> None:
        """Set the mmap threshold, when one is given."""
        if self.mmap_threshold is None:
            return
        if set_mmap_threshold(self.mmap_threshold):
            logger.info("trim_memory: blocks of %d bytes or more now come from mmap", self.mmap_threshold)
        else:
            logger.info("trim_memory: this C library has no mallopt; the mmap threshold stays")

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Trim at every ``every``-th step."""
        if self.trim is not None and self.every is not None and state.global_step % self.every == 0:
            self.trim(0)
