"""The ``trainer`` section of an experiment config."""

from __future__ import annotations

from mtdnn.config.checks import check_number
from mtdnn.training.callbacks import Callback
from mtdnn.training.device import Precision
from mtdnn.training.objective import Objective, TaskLossObjective
from mtdnn.training.optim import AdamW, LinearSchedule, Optimizer, Scheduler

__all__ = ["TrainerSettings"]


class TrainerSettings:
    """How to train: optimisation, evaluation, checkpoints and hardware.

    Args:
        epochs: Passes over the training data.
        optimizer: The optimizer (default AdamW with lr 2e-5).
        scheduler: The learning-rate schedule (default linear warm-up over 10 % then decay).
        grad_clip: Clip the gradient norm to this value (``None`` disables).
        accumulation_steps: Mini-batches whose gradients are summed before each optimizer step.
        validation_metric: ``mean`` (mean over tasks of each task's main score) or ``TASK.METRIC``
            (e.g. ``sst2.accuracy``); higher is better. Selects the best model.
        device: ``auto`` (CUDA, then MPS, then CPU) or a torch device name.
        precision: ``auto`` (bf16 where the hardware computes it natively, else fp32), ``fp32``,
            ``bf16`` or ``fp16`` (autocast; fp16 uses a gradient scaler on CUDA).
        checkpoint_every: Also checkpoint every N optimizer steps (checkpoints are always written
            at the end of each epoch).
        keep_checkpoints: How many checkpoints to keep while training.
        keep_checkpoints_at_end: Keep the checkpoints when training ends. By default they are
            removed once training has ended (all epochs, or a callback stopped it), since the best
            model is saved in ``model/`` and resuming is no longer needed; each checkpoint holds
            the model and the optimizer state, several times the model's size.
        callbacks: Observers of training (e.g. ``early_stopping``).
        objective: Computes each batch's loss (default ``task_loss``: the task's loss times its
            ``loss_weight``); e.g. ``{type: 'r_drop', alpha: 1}``.
        progress_bar: Show a progress bar with the loss and the ETA.
        fast_dropout: Draw dropout masks with :mod:`mtdnn.dropout`'s cheaper CPU kernel (same
            distribution; ``False`` keeps torch's own dropout, e.g. to reproduce older runs).
        log_every: Optimizer steps between the training values handed to callbacks that log
            them (``tensorboard``).
    """

    def __init__(
        self,
        *,
        epochs: int = 3,
        optimizer: Optimizer | None = None,
        scheduler: Scheduler | None = None,
        grad_clip: float | None = 1.0,
        accumulation_steps: int = 1,
        validation_metric: str = "mean",
        device: str = "auto",
        precision: Precision = "auto",
        checkpoint_every: int | None = None,
        keep_checkpoints: int = 2,
        keep_checkpoints_at_end: bool = False,
        callbacks: list[Callback] | None = None,
        objective: Objective | None = None,
        progress_bar: bool = True,
        log_every: int = 10,
        fast_dropout: bool = True,
    ) -> None:
        for key, count in (
            ("epochs", epochs),
            ("accumulation_steps", accumulation_steps),
            ("log_every", log_every),
            ("keep_checkpoints", keep_checkpoints),
            ("checkpoint_every", checkpoint_every),
        ):
            check_number(count, path=key, at_least=1, integer=True)
        check_number(
            grad_clip,
            path="grad_clip",
            above=0,
            hint="the largest gradient norm, e.g. 1.0; null turns clipping off",
        )
        self.epochs = epochs
        self.optimizer = optimizer if optimizer is not None else AdamW()
        self.scheduler = scheduler if scheduler is not None else LinearSchedule()
        self.grad_clip = grad_clip
        self.accumulation_steps = accumulation_steps
        self.validation_metric = validation_metric
        self.device = device
        self.precision: Precision = precision
        self.checkpoint_every = checkpoint_every
        self.keep_checkpoints = keep_checkpoints
        self.keep_checkpoints_at_end = keep_checkpoints_at_end
        self.log_every = log_every
        self.callbacks = list(callbacks or [])
        self.objective = objective if objective is not None else TaskLossObjective()
        self.progress_bar = progress_bar
        self.fast_dropout = fast_dropout
