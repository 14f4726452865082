"""SMART (Jiang et al. 2020): smoothness-inducing adversarial regularisation and its Bregman proximal term."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Mapping
from typing import Literal

import torch
from torch import nn

from mtdnn.adversarial.base import AdversarialObjective
from mtdnn.adversarial.perturbation import (
    DropoutReplay,
    Granularity,
    Norm,
    gradient,
    masked_rms,
    norm_of,
    normalize,
    project,
    shift,
    token_mask,
)
from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel
from mtdnn.task import Task
from mtdnn.training.objective import Objective, ObjectiveOutput, Step, require_output
from mtdnn.types import HeadOutput

__all__ = ["ProximalObjective", "SmartObjective"]

Update = Literal["project", "renormalize"]


def _detached(output: HeadOutput) -> HeadOutput:
    """``output`` as a constant (its logits cut from the graph)."""
    return dataclasses.replace(output, logits=output.logits.detach())


class SmartObjective(AdversarialObjective):
    """SMART's smoothness-inducing regulariser: the inner loss plus ``weight`` x the worst nearby divergence.

    Gaussian noise of scale ``sigma`` on the word embeddings of the batch's real tokens is moved
    ``steps`` times by ``step_size`` along the gradient of the head's divergence between the
    clean and the perturbed outputs (normalised in ``norm`` per ``granularity``), and each time
    brought back into the ``epsilon`` ball (``update: 'project'``, the paper's Algorithm 1). The
    divergence at the final perturbation, times ``weight``, is added to the inner objective's
    loss; gradients reach the parameters through both outputs. Each step costs about 2.7 times
    a plain one with one ascent step (three forward and nearly three backward passes).

    The perturbation is added to the raw word embeddings, before position and segment
    embeddings and normalisation. With ``relative`` (the default) ``epsilon``, ``sigma`` and
    ``step_size`` are in units of the batch's word-embedding RMS, so the paper's values (set for
    embeddings of RMS about 1) mean the same for every encoder; with ``relative: false`` they are
    absolute.

    ``update: 'renormalize'`` is the original MT-DNN toolkit's update instead: the perturbation
    plus the step is divided by its norm (plus ``epsilon``), so it always has norm 1 (one RMS
    with ``relative``), whatever ``epsilon`` is.

    Args:
        inner: The objective whose loss the term is added to (``task_loss`` by default).
        epsilon: Radius of the ball the perturbation stays in.
        sigma: Standard deviation of the initial noise.
        step_size: Length of each ascent step (on the normalised gradient).
        steps: Ascent steps (0: the noise alone).
        norm: ``inf`` or ``l2``.
        granularity: ``token`` (a ball per token vector) or ``sequence`` (per example).
        update: ``project`` (the paper) or ``renormalize`` (the original toolkit).
        relative: ``epsilon``, ``sigma`` and ``step_size`` in units of the embedding RMS.
        same_dropout: Give the perturbed passes the clean pass's dropout masks, so the term
            measures the perturbation alone. Off by default, as in the released SMART code,
            where the passes draw their own masks and the term also pulls dropout-perturbed
            outputs together (as R-Drop does).
        weight: Weight of the term.
        tasks: Tasks to perturb (default: every task whose head defines a divergence).
        task_weights: Per-task weights in place of ``weight``.
    """

    uses_divergence = True

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        epsilon: float = 1e-5,
        sigma: float = 1e-5,
        step_size: float = 1e-3,
        steps: int = 1,
        norm: Norm = "inf",
        granularity: Granularity = "token",
        update: Update = "project",
        relative: bool = True,
        same_dropout: bool = False,
        weight: float = 1.0,
        tasks: list[str] | None = None,
        task_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(inner=inner, weight=weight, tasks=tasks, task_weights=task_weights)
        for name, value in (("epsilon", epsilon), ("sigma", sigma), ("step_size", step_size)):
            if not (math.isfinite(value) and value >= 0):
                raise ConfigurationError(f"{name} must be a non-negative number, got {value}", path=name)
        if steps < 0:
            raise ConfigurationError(f"steps must not be negative, got {steps}", path="steps")
        self.epsilon, self.sigma, self.step_size, self.steps = epsilon, sigma, step_size, steps
        self.norm, self.granularity, self.update = norm, granularity, update
        self.relative, self.same_dropout = relative, same_dropout

    def fp32_reason(self) -> str | None:
        """SMART's projected perturbations are far below bf16's rounding (docs/adversarial.md)."""
        if self.update == "project":
            size = f"{self.epsilon:g}" + (" x their RMS" if self.relative else "")
            return f"smart moves the embeddings by at most {size}, far less than bf16 rounds away"
        return super().fp32_reason()

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The inner loss plus the weighted divergence at the adversarial perturbation."""
        weight = self.weight_for(step.batch.task)
        if weight is None:
            return self.inner(step)
        mask = token_mask(step.batch.inputs)
        replay = DropoutReplay(mask.device) if self.same_dropout else None
        result = self.inner(step)
        output = require_output(result, "smart", self.inner)
        embedded = step.module.encoder.embed(step.batch.inputs).detach()
        rms = masked_rms(embedded, mask)
        scale = float(rms) if self.relative else 1.0
        noise = torch.randn(embedded.shape, device=embedded.device) * (self.sigma * scale)
        delta = self._ascend(step, output, noise * mask.unsqueeze(-1), scale, replay)
        with replay.replay() if replay else contextlib.nullcontext():
            adversarial = step.forward(perturb=shift(delta))
        divergence = step.head.divergence(output, adversarial, step.batch)
        scalars = {
            **result.scalars,
            "smart_divergence": divergence.detach(),
            "smart_delta_rms": masked_rms(delta, mask),
            "embedding_rms": rms,
        }
        return ObjectiveOutput(loss=result.loss + weight * divergence, output=output, scalars=scalars)

    def _ascend(
        self, step: Step, output: HeadOutput, delta: torch.Tensor, scale: float, replay: DropoutReplay | None
    ) -> torch.Tensor:
        """The perturbation after the ascent steps from ``delta`` (a constant ``[B, T, E]``)."""
        mask = token_mask(step.batch.inputs)
        clean = _detached(output)
        for _ in range(self.steps):
            delta.requires_grad_(True)
            with replay.replay() if replay else contextlib.nullcontext():
                perturbed = step.forward(perturb=shift(delta), sync=False)
            direction = gradient(step.head.divergence(clean, perturbed, step.batch), delta)
            delta = self._move(delta.detach(), direction, mask, scale)
        return delta.detach()

    def _move(
        self, delta: torch.Tensor, grad: torch.Tensor, mask: torch.Tensor, scale: float
    ) -> torch.Tensor:
        """One ascent step from ``delta`` along ``grad``, back into the ball (or renormalised)."""
        norm, granularity = self.norm, self.granularity
        if self.update == "renormalize":  # the original toolkit: raw gradient step, then norm 1
            moved = delta + grad * (self.step_size * scale)
            size = norm_of(moved, mask, norm=norm, granularity=granularity)
            return moved / (size + self.epsilon * scale) * scale * mask.unsqueeze(-1)
        moved = delta + normalize(grad, mask, norm=norm, granularity=granularity) * (self.step_size * scale)
        return project(moved, mask, radius=self.epsilon * scale, norm=norm, granularity=granularity)


class ProximalObjective(AdversarialObjective):
    """SMART's momentum Bregman proximal point: ``mu`` x the divergence from an EMA copy of the model.

    The objective keeps its own copy of the model (not trained, not in ``model/``, saved in every
    checkpoint), updated after each optimizer step as ``ema = beta * ema + (1 - beta) * model``,
    with ``beta_early`` during the first ``early`` fraction of the optimizer steps and ``beta``
    after. For each batch the copy runs on the clean inputs with the model's own dropout masks,
    and ``mu`` times the head's divergence between the model's and the copy's outputs is added
    to the inner loss: 0 at the first step, growing as the model moves away from its average.

    Args:
        inner: The objective wrapped (e.g. ``smart``; ``task_loss`` by default).
        mu: Weight of the proximal term (``weight`` and ``task_weights`` scale it per task).
        beta: The EMA's momentum after the early phase.
        beta_early: Its momentum during the early phase.
        early: Fraction of the run's optimizer steps that use ``beta_early``.
        weight: Multiplies ``mu`` (kept for per-task control).
        tasks: Tasks that get the term (default: every task whose head defines a divergence).
        task_weights: Per-task weights in place of ``weight``.
    """

    uses_divergence = True

    def __init__(
        self,
        *,
        inner: Objective | None = None,
        mu: float = 1.0,
        beta: float = 0.999,
        beta_early: float = 0.99,
        early: float = 0.1,
        weight: float = 1.0,
        tasks: list[str] | None = None,
        task_weights: dict[str, float] | None = None,
    ) -> None:
        super().__init__(inner=inner, weight=weight, tasks=tasks, task_weights=task_weights)
        if not mu >= 0:
            raise ConfigurationError(f"mu must not be negative, got {mu}", path="mu")
        for name, value in (("beta", beta), ("beta_early", beta_early), ("early", early)):
            if not 0.0 <= value <= 1.0:
                raise ConfigurationError(f"{name} must be in [0, 1], got {value}", path=name)
        self.mu, self.beta, self.beta_early, self.early = mu, beta, beta_early, early
        self.ema: MultiTaskModel | None = None

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        """Copy the model (its state now is the EMA's start), then set the inner objective up."""
        super().setup(model, tasks=tasks, total_steps=total_steps)
        self.ema = copy.deepcopy(model).requires_grad_(False)

    def _copy(self) -> MultiTaskModel:
        if self.ema is None:
            raise RuntimeError("ProximalObjective.setup() was not called")
        return self.ema

    def modules(self) -> dict[str, nn.Module]:
        """The EMA copy, as ``ema``, with the inner objective's modules."""
        return {**super().modules(), "ema": self._copy()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The EMA copy's tensors (under ``ema.``) and the inner objective's state."""
        own = {f"ema.{key}": value for key, value in self._copy().state_dict().items()}
        return {**super().state_dict(), **own}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore the EMA copy and the inner objective's state."""
        own = {key[len("ema.") :]: value for key, value in state.items() if key.startswith("ema.")}
        self._copy().load_state_dict(own)
        super().load_state_dict({key: value for key, value in state.items() if not key.startswith("ema.")})

    def beta_at(self, global_step: int, total_steps: int) -> float:
        """The momentum of the update after optimizer step ``global_step`` (counted from 1)."""
        return self.beta_early if global_step <= self.early * total_steps else self.beta

    def on_step_end(self, model: MultiTaskModel, *, global_step: int, total_steps: int) -> None:
        """Move the EMA copy towards the model."""
        super().on_step_end(model, global_step=global_step, total_steps=total_steps)
        beta = self.beta_at(global_step, total_steps)
        with torch.no_grad():
            mine, theirs = self._copy().state_dict(), model.state_dict()
            for key, value in mine.items():
                if value.is_floating_point():
                    value.lerp_(theirs[key].to(value.dtype), 1.0 - beta)
                else:
                    value.copy_(theirs[key])

    def __call__(self, step: Step) -> ObjectiveOutput:
        """The inner loss plus ``mu`` x the divergence between the model's and the EMA copy's outputs."""
        weight = self.weight_for(step.batch.task)
        if weight is None:
            return self.inner(step)
        replay = DropoutReplay(step.batch.inputs["input_ids"].device)
        result = self.inner(step)
        output = require_output(result, "proximal", self.inner)
        ema = self._copy().train(step.module.training)
        with torch.no_grad(), replay.replay():
            anchor = ema(step.batch, perturb=step.perturb)
        divergence = step.head.divergence(output, anchor, step.batch)
        scalars = {**result.scalars, "proximal_divergence": divergence.detach()}
        return ObjectiveOutput(
            loss=result.loss + self.mu * weight * divergence, output=output, scalars=scalars
        )
