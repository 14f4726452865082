"""FGM and PGD: adversarial steps on the word-embedding matrix along the task loss's gradient.

The common implementations add ``r`` to the embedding matrix in place, run the model, and
restore the matrix. Here the rows of ``r`` for the batch's token ids are added to the looked-up
word embeddings instead: the same forward pass (the lookup of ``W + r`` is the lookup of ``W``
plus the lookup of ``r``), with nothing to restore, no in-place change under autograd, and the
decoder of a masked-LM head tied to ``W`` left clean. Norms run over the whole perturbation
(the Frobenius norm of ``r``, whose non-zero rows are the batch's distinct tokens).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from mtdnn.adversarial.base import AdversarialObjective
from mtdnn.adversarial.perturbation import gradient, masked_rms, token_mask
from mtdnn.errors import ConfigurationError
from mtdnn.model import Perturbation
from mtdnn.training.objective import Objective, ObjectiveOutput, Step, require_output

__all__ = ["FgmObjective", "PgdObjective"]

LossAt = Callable[[torch.Tensor], torch.Tensor]
"""The inner loss with given perturbation rows."""


def _rows(rows: torch.Tensor, inverse: torch.Tensor) -> Perturbation:
    """Adds row ``inverse[b, t]`` of ``rows`` to each token's word embedding."""
    return lambda embeddings: embeddings + rows[inverse].to(embeddings.dtype)


def _unit(grad: torch.Tensor) -> torch.Tensor:
    """``grad`` over its Frobenius norm (zero stays zero)."""
    unit: torch.Tensor = grad / grad.norm().clamp_min(1e-12)
    return unit


class _MatrixAttack(AdversarialObjective):
    """Shared by FGM and PGD: the clean pass with a zero perturbation whose gradient starts the attack."""

    name = ""

    def __init__(
        self,
        *,
        inner: Objective | None,
        epsilon: float,
        weight: float,
        tasks: list[str] | None,
        task_weights: dict[str, float] | None,
    ) -> None:
        super().__init__(inner=inner, weight=weight, tasks=tasks, task_weights=task_weights)
        if not (math.isfinite(epsilon) and epsilon >= 0):
            raise ConfigurationError(f"epsilon must be a non-negative number, got {epsilon}", path="epsilon")
        self.epsilon = epsilon

    def _attack(self, step: Step, first: torch.Tensor, loss: LossAt) -> torch.Tensor:
        """The final perturbation rows, from the clean gradient ``first`` (``loss(rows)``: loss there)."""
        raise NotImplementedError

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The clean inner loss plus ``weight`` x the inner loss at the adversarial embeddings."""
        weight = self.weight_for(step.batch.task)
        if weight is None:
            return self.inner(step)
        ids = step.batch.inputs["input_ids"]
        _, inverse = torch.unique(ids, return_inverse=True)
        embedded = step.module.encoder.embed(step.batch.inputs).detach()  # for its width and RMS
        zero = torch.zeros(int(inverse.max()) + 1, embedded.size(-1), device=ids.device, requires_grad=True)
        clean = self.inner(step.perturbed(_rows(zero, inverse)))
        output = require_output(clean, self.name, self.inner)
        first = gradient(clean.loss, zero, retain_graph=True)

        def loss_at(rows: torch.Tensor) -> torch.Tensor:
            pass_ = self.inner(step.perturbed(_rows(rows, inverse)))
            return pass_.loss

        rows = self._attack(step, first, loss_at)
        adversarial = self.inner(step.perturbed(_rows(rows, inverse)))
        mask = token_mask(step.batch.inputs)
        scalars = {
            **clean.scalars,
            f"{self.name}_loss": adversarial.loss.detach(),
            f"{self.name}_delta_rms": masked_rms(rows[inverse], mask),
            "embedding_rms": masked_rms(embedded, mask),
        }
        return ObjectiveOutput(loss=clean.loss + weight * adversarial.loss, output=output, scalars=scalars)


class FgmObjective(_MatrixAttack):
    """FGM (Miyato et al. 2017): one step of size ``epsilon`` along the clean loss's gradient.

    The loss is the inner loss plus ``weight`` x the inner loss with ``r = epsilon * g / ||g||``
    added to the word-embedding matrix, where ``g`` is the clean loss's gradient with respect to
    the matrix. A step costs two forward and two backward passes.

    Args:
        inner: The objective run on the clean and the perturbed inputs (``task_loss`` by default).
        epsilon: The perturbation's Frobenius norm.
        weight: Weight of the adversarial loss.
        tasks: Tasks to perturb (default: all).
        task_weights: Per-task weights in place of ``weight``.
    """

    name = "fgm"

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        epsilon: float = 1.0,
        weight: float = 1.0,
        tasks: list[str] | None = None,
        task_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(inner=inner, epsilon=epsilon, weight=weight, tasks=tasks, task_weights=task_weights)

    def _attack(self, step: Step, first: torch.Tensor, loss: LossAt) -> torch.Tensor:
        return _unit(first) * self.epsilon


class PgdObjective(_MatrixAttack):
    """PGD (Madry et al. 2018) on the embedding matrix: ``steps`` steps of ``step_size``, projected.

    From ``r = 0``, each step adds ``step_size * g / ||g||`` (``g``: the loss's gradient at the
    current ``r``, the first one the clean loss's) and scales ``r`` back to Frobenius norm
    ``epsilon`` if it is longer. The loss is the inner loss plus ``weight`` x the inner loss at the
    final ``r``, as in the common implementation (which keeps the clean gradient and the last
    step's). A step costs ``steps + 1`` forward and backward passes.

    Args:
        inner: The objective run on the clean and the perturbed inputs (``task_loss`` by default).
        epsilon: Radius of the ball (Frobenius norm).
        step_size: Length of each step.
        steps: Steps K.
        weight: Weight of the adversarial loss.
        tasks: Tasks to perturb (default: all).
        task_weights: Per-task weights in place of ``weight``.
    """

    name = "pgd"

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        epsilon: float = 1.0,
        step_size: float = 0.3,
        steps: int = 3,
        weight: float = 1.0,
        tasks: list[str] | None = None,
        task_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(inner=inner, epsilon=epsilon, weight=weight, tasks=tasks, task_weights=task_weights)
        if steps < 1:
            raise ConfigurationError(f"steps must be at least 1, got {steps}", path="steps")
        if not (math.isfinite(step_size) and step_size >= 0):
            raise ConfigurationError(
                f"step_size must be a non-negative number, got {step_size}", path="step_size"
            )
        self.step_size, self.steps = step_size, steps

    def _attack(self, step: Step, first: torch.Tensor, loss: LossAt) -> torch.Tensor:
        rows, grad = torch.zeros_like(first), first
        for number in range(self.steps):
            rows = rows + _unit(grad) * self.step_size
            rows = rows * (self.epsilon / rows.norm().clamp_min(1e-12)).clamp(max=1.0)
            if number < self.steps - 1:
                rows.requires_grad_(True)
                grad = gradient(loss(rows), rows)
                rows = rows.detach()
        return rows
