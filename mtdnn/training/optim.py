"""Optimizers and learning-rate schedules as registered components."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from mtdnn.config.checks import check_number
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError

__all__ = [
    "AdamW",
    "Adamax",
    "ConstantSchedule",
    "LinearSchedule",
    "Optimizer",
    "Scheduler",
    "parameter_groups",
]

_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias", "norm.weight")


def parameter_groups(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float,
    layer_decay: float | None = None,
    head_lr: float | None = None,
) -> list[dict[str, Any]]:
    """Group trainable parameters by learning rate and by whether weight decay applies.

    Biases and normalisation weights get no decay. With ``layer_decay`` a parameter of the
    encoder at depth ``d`` (0 = top layer, see :meth:`Encoder.parameter_depths`) trains at
    ``lr * layer_decay ** d`` (BAM's layer-wise decay); parameters outside the encoder (the
    heads) train at ``head_lr`` if given, else at ``lr``.

    Args:
        model: A :class:`~mtdnn.model.MultiTaskModel` (or any module; without an ``encoder``
            attribute every parameter counts as a head parameter).
        lr: The peak learning rate.
        weight_decay: Weight decay for the decayed groups.
        layer_decay: Multiplier per layer of depth (``None`` or 1: no decay).
        head_lr: Learning rate of the heads (``None``: ``lr``).
    """
    depths: dict[str, int] = {}
    encoder = getattr(model, "encoder", None)
    if isinstance(encoder, Encoder):
        depths = {f"encoder.{name}": depth for name, depth in encoder.parameter_depths().items()}
    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if name in depths:
            rate = lr * (layer_decay ** depths[name] if layer_decay is not None else 1.0)
        else:
            rate = head_lr if head_lr is not None else lr
        decayed = not (name.endswith(_NO_DECAY) or parameter.ndim < 2)
        groups.setdefault((rate, decayed), []).append(parameter)
    return [
        {"params": params, "lr": rate, "weight_decay": weight_decay if decayed else 0.0}
        for (rate, decayed), params in sorted(groups.items(), key=lambda item: (-item[0][0], not item[0][1]))
    ]


class Optimizer:
    """Creates the torch optimizer for a model's parameters."""

    def create(self, model: nn.Module) -> torch.optim.Optimizer:
        """Return a torch optimizer over the trainable parameters of ``model``."""
        raise NotImplementedError


class _AdamFamily(Optimizer):
    """Shared body of the Adam-style optimizers; each subclass's signature holds its defaults."""

    torch_class: ClassVar[Callable[..., torch.optim.Optimizer]]

    def _store(
        self,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float],
        eps: float,
        layer_decay: float | None,
        head_lr: float | None,
    ) -> None:
        check_number(lr, path="lr", above=0)
        check_number(head_lr, path="head_lr", above=0)
        check_number(weight_decay, path="weight_decay", at_least=0)
        check_number(eps, path="eps", above=0)
        if not isinstance(betas, list | tuple) or len(betas) != 2:
            raise ConfigurationError(
                f"betas must be two numbers, got {betas!r}", path="betas", hint="[0.9, 0.999]"
            )
        for beta in betas:
            check_number(beta, path="betas", at_least=0, below=1, hint="[0.9, 0.999]")
        check_number(layer_decay, path="layer_decay", above=0, at_most=1, hint="BAM uses 0.9")
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, tuple(betas), eps
        self.layer_decay, self.head_lr = layer_decay, head_lr

    def create(self, model: nn.Module) -> torch.optim.Optimizer:
        """The torch optimizer over parameter groups by learning rate and weight decay."""
        groups = parameter_groups(
            model,
            lr=self.lr,
            weight_decay=self.weight_decay,
            layer_decay=self.layer_decay,
            head_lr=self.head_lr,
        )
        return self.torch_class(groups, lr=self.lr, betas=self.betas, eps=self.eps, **self._kernel(groups))

    def _kernel(self, groups: list[dict[str, Any]]) -> dict[str, bool]:
        """Extra arguments choosing torch's implementation (none: its default)."""
        return {}


class AdamW(_AdamFamily):
    """Adam with decoupled weight decay (no decay on biases and normalisation weights).

    Args:
        lr: Peak learning rate.
        weight_decay: Decoupled weight decay.
        betas: Adam's moment coefficients.
        eps: Adam's epsilon.
        layer_decay: Layer-wise learning-rate decay: encoder layer at depth d (0 = top) trains
            at ``lr * layer_decay ** d`` (BAM uses 0.9); ``None`` disables it.
        head_lr: Learning rate of the task heads (``None``: ``lr``).
        fused: Update all parameters with PyTorch's fused kernel where their device has one (CPU,
            CUDA, MPS, XPU); the same update as the per-tensor loop, computed in fewer passes.
    """

    torch_class = torch.optim.AdamW

    def __init__(
        self,
        *,
        lr: float = 2e-5,
        weight_decay: float = 0.01,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        layer_decay: float | None = None,
        head_lr: float | None = None,
        fused: bool = True,
    ) -> None:
        self._store(lr, weight_decay, betas, eps, layer_decay, head_lr)
        self.fused = fused

    def _kernel(self, groups: list[dict[str, Any]]) -> dict[str, bool]:
        """``fused=True`` when asked for and every parameter is floating point on a device with the kernel."""
        parameters = [p for group in groups for p in group["params"]]
        fusable = all(p.is_floating_point() and p.device.type in _FUSED_DEVICES for p in parameters)
        return {"fused": True} if self.fused and fusable and parameters else {}


class Adamax(_AdamFamily):
    """Adamax (the infinity-norm variant of Adam), the optimizer of the MT-DNN paper.

    Args:
        lr: Peak learning rate (the paper uses 5e-5).
        weight_decay: L2 weight decay (not on biases and normalisation weights).
        betas: Moment coefficients.
        eps: Epsilon.
        layer_decay: Layer-wise learning-rate decay: encoder layer at depth d (0 = top) trains
            at ``lr * layer_decay ** d``; ``None`` disables it.
        head_lr: Learning rate of the task heads (``None``: ``lr``).
    """

    torch_class = torch.optim.Adamax

    def __init__(
        self,
        *,
        lr: float = 5e-5,
        weight_decay: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        layer_decay: float | None = None,
        head_lr: float | None = None,
    ) -> None:
        self._store(lr, weight_decay, betas, eps, layer_decay, head_lr)


_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")


class Scheduler:
    """Creates the learning-rate schedule once the number of optimizer steps is known."""

    def create(
        self, optimizer: torch.optim.Optimizer, total_steps: int
    ) -> torch.optim.lr_scheduler.LRScheduler:
        """Return a scheduler stepped once per optimizer step."""
        raise NotImplementedError


def _check_warmup(warmup: float) -> float:
    check_number(
        warmup,
        path="warmup",
        at_least=0,
        hint="a fraction of all steps below 1 (0.1: the first 10 %), else a number of steps",
    )
    return warmup


def _warmup_steps(warmup: float, total_steps: int) -> int:
    return int(warmup * total_steps) if warmup < 1 else int(warmup)


class LinearSchedule(Scheduler):
    """Linear warm-up from 0 to the peak rate, then linear decay to 0 at the last step.

    Args:
        warmup: Warm-up length: a fraction of all steps if below 1, else a number of steps.
    """

    def __init__(self, *, warmup: float = 0.1) -> None:
        self.warmup = _check_warmup(warmup)

    def create(
        self, optimizer: torch.optim.Optimizer, total_steps: int
    ) -> torch.optim.lr_scheduler.LRScheduler:
        """A ``LambdaLR`` with the warm-up/decay factor."""
        warm = _warmup_steps(self.warmup, total_steps)
        total = max(total_steps, 1)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / (warm + 1)
            return max(0.0, (total - step) / max(1, total - warm))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class ConstantSchedule(Scheduler):
    """A constant rate after an optional linear warm-up.

    Args:
        warmup: Warm-up length: a fraction of all steps if below 1, else a number of steps.
    """

    def __init__(self, *, warmup: float = 0.0) -> None:
        self.warmup = _check_warmup(warmup)

    def create(
        self, optimizer: torch.optim.Optimizer, total_steps: int
    ) -> torch.optim.lr_scheduler.LRScheduler:
        """A ``LambdaLR`` that is 1 after warm-up."""
        warm = _warmup_steps(self.warmup, total_steps)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / (warm + 1)))
