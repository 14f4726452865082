"""The training objective: the one component that turns a training batch into the loss to minimise.

The training loop calls exactly one :class:`Objective` per batch (configured as
``trainer.objective``) and never learns which one it is. The default, ``task_loss``, is the task's
loss times its ``loss_weight``; adversarial training, distillation and R-Drop are objectives that
wrap an ``inner`` objective and add a term of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from mtdnn.data.dataset import TaskData
from mtdnn.errors import ConfigurationError
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel, Perturbation
from mtdnn.task import Task
from mtdnn.types import HeadOutput, TaskBatch

__all__ = [
    "Objective",
    "ObjectiveOutput",
    "RDropObjective",
    "Step",
    "TaskLossObjective",
    "WrappingObjective",
    "compose",
    "require_divergence",
    "require_output",
]


def _backward(loss: torch.Tensor) -> None:
    loss.backward()  # type: ignore[no-untyped-call]


def compose(first: Perturbation | None, second: Perturbation | None) -> Perturbation | None:
    """The perturbation that applies ``first`` and then ``second`` (either may be ``None``)."""
    if first is None or second is None:
        return first if second is None else second
    return lambda embeddings: second(first(embeddings))


@dataclass(frozen=True)
class Step:
    """One training batch as an objective sees it.

    Args:
        model: The model as the loop runs it (wrapped for data parallelism when distributed):
            ``model(batch, perturb=...)``. Forward passes whose loss is back-propagated into the
            model's parameters go through it, so that gradients are synchronised.
        module: The bare :class:`~mtdnn.model.MultiTaskModel` (its encoder, heads, embeddings),
            e.g. for forward passes that only need gradients with respect to a perturbation.
        batch: The batch, already prepared by its head (masked-LM masks drawn once), so every
            forward pass of this step sees the same inputs.
        task: The batch's task (its loss, ``loss_weight`` and settings).
        global_step: Optimizer steps taken before this batch.
        total_steps: Optimizer steps of the whole run.
        backward: Back-propagates part of the batch's loss at once, as the loop back-propagates
            the loss an objective returns (divided by the gradient-accumulation steps, scaled for
            fp16, outside autocast), so that parameter gradients add up. For objectives that
            take several backward passes per batch (FreeLB); what they back-propagate this way
            must not also be in the loss they return (return it detached).
        perturb: A perturbation of the word embeddings that every forward pass of this step
            applies (set by a wrapping adversarial objective for its inner one with
            :meth:`perturbed`); ``None`` for clean inputs.
    """

    model: Callable[..., HeadOutput]
    module: MultiTaskModel
    batch: TaskBatch
    task: Task
    global_step: int = 0
    total_steps: int = 0
    backward: Callable[[torch.Tensor], None] = _backward
    perturb: Perturbation | None = None

    @property
    def head(self) -> Head:
        """The head of the batch's task."""
        return self.module.head(self.batch.task)

    def forward(self, *, perturb: Perturbation | None = None, sync: bool = True) -> HeadOutput:
        """Run the model on the batch.

        Args:
            perturb: Applied to the word embeddings, after the step's own :attr:`perturb`.
            sync: Run :attr:`model` (gradients synchronised across data-parallel ranks); with
                ``False`` the bare :attr:`module`, for passes whose gradient only goes to a
                perturbation (``torch.autograd.grad``), never into the parameters.
        """
        model = self.model if sync else self.module
        return model(self.batch, perturb=compose(self.perturb, perturb))

    def perturbed(self, perturb: Perturbation) -> Step:
        """This step with ``perturb`` applied in every forward pass (to hand to an inner objective)."""
        return replace(self, perturb=compose(self.perturb, perturb))

    def task_loss(self, output: HeadOutput) -> torch.Tensor:
        """The task's loss of ``output`` times the task's ``loss_weight``."""
        return self.task.settings.loss(output, self.batch) * self.task.settings.loss_weight


@dataclass(frozen=True)
class ObjectiveOutput:
    """What an objective returns for one batch.

    Args:
        loss: The scalar to minimise.
        output: The head output of the batch's clean forward pass that ``loss`` was computed
            from, for a wrapping objective to reuse instead of running the model again.
        scalars: Extra values to report (e.g. an adversarial loss, a perturbation norm), each a
            scalar tensor; the loop detaches them, averages them like the loss and writes them
            to ``metrics.jsonl`` and the progress bar. ``loss`` is a reserved name.
    """

    loss: torch.Tensor
    output: HeadOutput | None = None
    scalars: Mapping[str, torch.Tensor] = field(default_factory=dict)


class Objective:
    """Computes the loss of one training batch.

    Besides :meth:`__call__`, an objective may own modules that are not trained (a teacher, an
    EMA copy of the model): it returns them from :meth:`modules`, and the trainer moves them to
    the device and keeps them out of the optimizer and out of the saved model. Tensors it returns
    from :meth:`state_dict` are saved in every checkpoint and restored on resume.
    """

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Called once before training, after the model is on its device and before a resume.

        Args:
            model: The model to be trained (e.g. to copy for an EMA teacher).
            tasks: The experiment's tasks (e.g. to check that their heads fit the objective).
            total_steps: Optimizer steps of the whole run.

        Raises:
            ConfigurationError: The objective cannot train these tasks.
        """

    def check_data(self, data: Mapping[str, TaskData]) -> None:
        """Called once after :meth:`setup` with the training data of each task (e.g. to check that
        every training row has a soft target).

        Raises:
            DataError: The data does not fit the objective.
        """

    def modules(self) -> dict[str, nn.Module]:
        """The untrained modules the objective owns, by name (none by default)."""
        return {}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The tensors a checkpoint must hold to resume the objective exactly (none by default)."""
        return {}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore what :meth:`state_dict` returned.

        Raises:
            ValueError: ``state`` holds tensors the objective does not know.
        """
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, got {sorted(state)}")

    def fp32_reason(self) -> str | None:
        """Why this objective must train in fp32 (then ``precision: 'auto'`` picks fp32), or ``None``.

        An objective that compares forward passes which differ by tiny perturbations gets rounding
        noise, not a signal, from bf16 or fp16 autocast.
        """
        return None

    def on_step_end(self, model: MultiTaskModel, *, global_step: int, total_steps: int) -> None:
        """Called after every optimizer step (e.g. to update an EMA copy of the model)."""

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The loss of one batch."""
        raise NotImplementedError


class WrappingObjective(Objective):
    """An objective that adds to an ``inner`` one; setup, modules, state and steps reach the inner one.

    A subclass calls ``self.inner(step)`` in :meth:`__call__` and extends the other methods with
    ``super()``; the inner objective's modules and state are kept under ``inner.``.

    Args:
        inner: The objective wrapped (``{type: 'task_loss'}`` by default).
    """

    def __init__(self, *, inner: Objective | None = None) -> None:
        self.inner = inner if inner is not None else TaskLossObjective()

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Set the inner objective up."""
        self.inner.setup(model, tasks=tasks, total_steps=total_steps)

    def check_data(self, data: Mapping[str, TaskData]) -> None:
        """Pass the training data on to the inner objective."""
        self.inner.check_data(data)

    def fp32_reason(self) -> str | None:
        """The inner objective's reason to train in fp32."""
        return self.inner.fp32_reason()

    def modules(self) -> dict[str, nn.Module]:
        """The inner objective's modules, under ``inner.``."""
        return {f"inner.{name}": module for name, module in self.inner.modules().items()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The inner objective's state, under ``inner.``."""
        return {f"inner.{name}": value for name, value in self.inner.state_dict().items()}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Give the inner objective its state; anything else is an error."""
        own = {name: value for name, value in state.items() if not name.startswith("inner.")}
        if own:
            raise ValueError(f"{type(self).__name__} keeps no state of its own, got {sorted(own)}")
        self.inner.load_state_dict({name[len("inner.") :]: value for name, value in state.items()})

    def on_step_end(self, model: MultiTaskModel, *, global_step: int, total_steps: int) -> None:
        """Pass the step on to the inner objective."""
        self.inner.on_step_end(model, global_step=global_step, total_steps=total_steps)


class TaskLossObjective(Objective):
    """The task's own loss times its ``loss_weight``: one forward pass (MT-DNN's objective)."""

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The task loss of one clean forward pass."""
        output = step.forward()
        return ObjectiveOutput(loss=step.task_loss(output), output=output)


class RDropObjective(WrappingObjective):
    """R-Drop (Liang et al. 2021): two forward passes with different dropout, pulled together.

    The inner objective runs twice on the same batch; dropout differs between the passes. The
    loss is the mean of the two inner losses plus ``alpha`` times half the head's divergence
    between the two outputs (:meth:`~mtdnn.heads.base.Head.divergence`, a symmetric KL for
    classification), which is the paper's objective (sum of the two losses, ``alpha`` times the
    mean of both KL directions) halved: ``alpha`` has the paper's meaning, and with ``alpha: 0``
    the loss has the scale of ordinary training. The divergence is reported as
    ``r_drop_divergence``. Each step costs two forward and backward passes.

    Args:
        inner: The objective run twice (``task_loss`` by default).
        alpha: Weight of the consistency term (the paper uses 0.1 to 5 depending on the task).
    """

    def __init__(self, *, inner: Objective | None = None, alpha: float = 1.0) -> None:
        super().__init__(inner=inner)
        if alpha < 0:
            raise ConfigurationError(f"alpha must not be negative, got {alpha}", path="alpha")
        self.alpha = alpha

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Check that every task's head defines a divergence, then set the inner objective up."""
        require_divergence(model, tasks, objective="r_drop")
        super().setup(model, tasks=tasks, total_steps=total_steps)

    def __call__(self, step: Step) -> ObjectiveOutput:
        """Both passes' mean loss plus the weighted divergence between their outputs."""
        first, second = self.inner(step), self.inner(step)
        if first.output is None or second.output is None:
            raise ValueError(
                f"r_drop needs the head output of its inner objective, and {type(self.inner).__name__} "
                "returned none"
            )
        divergence = step.head.divergence(first.output, second.output, step.batch)
        loss = (first.loss + second.loss) / 2 + self.alpha * divergence / 2
        scalars = {**_mean_scalars(first.scalars, second.scalars), "r_drop_divergence": divergence.detach()}
        return ObjectiveOutput(loss=loss, output=first.output, scalars=scalars)


def require_output(result: ObjectiveOutput, objective: str, inner: Objective) -> HeadOutput:
    """The clean head output an inner objective returned (for an objective that compares outputs).

    Raises:
        ValueError: It returned none.
    """
    if result.output is None:
        raise ValueError(
            f"{objective} needs the head output of its inner objective, "
            f"and {type(inner).__name__} returned none"
        )
    return result.output


def require_divergence(model: MultiTaskModel, tasks: Mapping[str, Task], *, objective: str) -> None:
    """Fail unless the head of every task in ``tasks`` defines :meth:`Head.divergence`.

    Raises:
        ConfigurationError: A head does not define it; the message names its task.
    """
    for name in tasks:
        head = model.head(name)
        if type(head).divergence is Head.divergence:
            raise ConfigurationError(
                f"the {objective} objective compares two outputs of each head, and the "
                f"{type(head).__name__} head of task {name!r} does not define divergence(a, b, batch)",
                path="trainer.objective",
                hint="use another objective, or give the head a divergence method",
            )


def _mean_scalars(first: Mapping[str, torch.Tensor], second: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The mean of each scalar two runs of an inner objective reported."""
    return {name: (value + second[name]) / 2 if name in second else value for name, value in first.items()}
