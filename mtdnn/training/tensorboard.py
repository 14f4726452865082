"""The ``tensorboard`` callback: training and dev curves as TensorBoard event files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mtdnn.errors import ConfigurationError
from mtdnn.training.callbacks import Callback
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Writes TensorBoard event files: training values every ``trainer.log_every`` steps, dev metrics.

    Scalars, against the optimizer step: ``train/loss``, ``train/lr`` and ``train/NAME`` for each
    value the objective reports (the adversarial and distillation terms: ``smart_divergence``,
    ``distill_soft``, ``bam_lambda``, ...), each a mean over the steps since the last point;
    ``dev/TASK/METRIC`` for every metric of every evaluation. Only the main process writes. After
    a resume the first training point averages only the steps since the resume. View them with
    ``tensorboard --logdir RUN_DIR/tensorboard``.

    Args:
        log_dir: Where the event files go (default ``tensorboard`` inside the run directory; a
            relative path is taken inside the run directory).
    """

    def __init__(self, *, log_dir: str | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as exc:  # torch's writer needs the tensorboard package
            raise ConfigurationError(
                "the tensorboard callback needs the tensorboard package",
                hint="pip install 'mtdnn[tensorboard]'",
            ) from exc
        self._writer_class = SummaryWriter
        self.log_dir = log_dir
        self._writer: Any = None

    def setup(self, *, run_dir: Path, is_main: bool) -> None:
        """Open the event file (main process only)."""
        if is_main and self._writer is None:
            folder = run_dir / (self.log_dir or "tensorboard")
            self._writer = self._writer_class(log_dir=str(folder))

    def on_log(self, state: TrainerState, control: TrainerControl, logs: Mapping[str, float]) -> None:
        """Add the training values at the current step."""
        if self._writer is not None:
            for name, value in logs.items():
                self._writer.add_scalar(f"train/{name}", value, state.global_step)

    def on_evaluate(
        self, state: TrainerState, control: TrainerControl, metrics: dict[str, dict[str, float]]
    ) -> None:
        """Add every dev metric, and flush."""
        if self._writer is None:
            return
        for task, values in metrics.items():
            for name, value in values.items():
                self._writer.add_scalar(f"dev/{task}/{name}", value, state.global_step)
        self._writer.flush()

    def on_train_end(self, state: TrainerState, control: TrainerControl) -> None:
        """Close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
