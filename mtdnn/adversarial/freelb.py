"""FreeLB (Zhu et al. 2020): the task loss averaged over K ascent steps, gradients accumulated across them."""

from __future__ import annotations

import math

import torch

from mtdnn.adversarial.base import AdversarialObjective
from mtdnn.adversarial.perturbation import Norm, masked_rms, normalize, project, shift, token_mask
from mtdnn.errors import ConfigurationError
from mtdnn.training.objective import Objective, ObjectiveOutput, Step

__all__ = ["FreeLbObjective"]


class FreeLbObjective(AdversarialObjective):
    """FreeLB: K passes of the inner objective on ever more adversarial word embeddings, averaged.

    The perturbation starts uniform at random (``init_magnitude``; zero gives a clean first
    pass). Each of the ``steps`` passes back-propagates its loss divided by ``steps`` into the
    parameters at once, so their gradients add up over the passes, and moves the perturbation
    ``step_size`` along its own gradient, normalised per example in ``norm``; with
    ``max_norm > 0`` it is then brought back into that ball per example. This is the release's
    algorithm: in ``l2`` the initial noise has norm about ``init_magnitude`` per example (uniform
    noise scaled by ``init_magnitude / sqrt(tokens x width)``); in ``inf`` each element is
    uniform in ``[-init_magnitude, init_magnitude]``. Magnitudes are absolute, on the raw word
    embeddings (the release perturbs the same tensor). A step costs ``steps`` forward and
    backward passes. The reported loss is the mean of the passes' losses.

    Args:
        inner: The objective run on the perturbed inputs (``task_loss`` by default).
        steps: Ascent steps K (passes per batch).
        step_size: Length of each ascent step.
        init_magnitude: Size of the initial random perturbation.
        max_norm: Radius of the ball the perturbation is kept in (0: unbounded).
        norm: ``l2`` or ``inf``, per example.
        tasks: Tasks to perturb (default: all).
    """

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        steps: int = 3,
        step_size: float = 4e-2,
        init_magnitude: float = 8e-2,
        max_norm: float = 0.0,
        norm: Norm = "l2",
        tasks: list[str] | None = None,
    ) -> None:
        super().__init__(inner=inner, tasks=tasks)
        if steps < 1:
            raise ConfigurationError(f"steps must be at least 1, got {steps}", path="steps")
        sizes = {"step_size": step_size, "init_magnitude": init_magnitude, "max_norm": max_norm}
        for name, value in sizes.items():
            if not (math.isfinite(value) and value >= 0):
                raise ConfigurationError(f"{name} must be a non-negative number, got {value}", path=name)
        self.steps, self.step_size, self.init_magnitude, self.max_norm, self.norm = (
            steps,
            step_size,
            init_magnitude,
            max_norm,
            norm,
        )

    def _initial(self, embedded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        noise = torch.empty(embedded.shape, device=embedded.device).uniform_(-1.0, 1.0) * mask.unsqueeze(-1)
        if self.norm == "inf":
            return noise * self.init_magnitude
        sizes = mask.sum(dim=1).clamp(min=1).float() * embedded.size(-1)
        return noise * (self.init_magnitude / sizes.sqrt()).view(-1, 1, 1)

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The mean of the K passes' losses; all but the last pass are back-propagated already."""
        if self.weight_for(step.batch.task) is None:
            return self.inner(step)
        mask = token_mask(step.batch.inputs)
        embedded = step.module.encoder.embed(step.batch.inputs).detach()
        delta = self._initial(embedded, mask)
        done = torch.zeros((), device=embedded.device)
        for number in range(self.steps):
            delta.requires_grad_(True)
            result = self.inner(step.perturbed(shift(delta)))
            share = result.loss / self.steps
            if number == self.steps - 1:
                break
            step.backward(share)
            done = done + share.detach()
            direction = delta.grad if delta.grad is not None else torch.zeros_like(delta)
            direction = direction.nan_to_num(0.0, posinf=0.0, neginf=0.0)
            ascent = normalize(direction, mask, norm=self.norm, granularity="sequence")
            moved = delta.detach() + ascent * self.step_size
            if self.max_norm > 0:
                moved = project(moved, mask, radius=self.max_norm, norm=self.norm, granularity="sequence")
            delta = moved
        scalars = {
            **result.scalars,
            "freelb_delta_rms": masked_rms(delta, mask),
            "embedding_rms": masked_rms(embedded, mask),
        }
        return ObjectiveOutput(loss=share + done, output=result.output, scalars=scalars)
