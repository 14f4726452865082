"""Callbacks observe training through typed state and may only flip control flags."""

from __future__ import annotations

from mtdnn.errors import ConfigurationError
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["Callback", "EarlyStopping"]


class Callback:
    """Observes a training run; every method may set flags on ``control`` and nothing else."""

    def on_train_begin(self, state: TrainerState, control: TrainerControl) -> None:
        """Called once before the first step (also after a resume)."""

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Called after every optimizer step."""

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
