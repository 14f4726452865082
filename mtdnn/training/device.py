"""Device selection and mixed precision behind one small helper."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Literal

import torch

from mtdnn.errors import ConfigurationError

__all__ = ["Precision", "autocast", "make_grad_scaler", "select_device"]

logger = logging.getLogger(__name__)

Precision = Literal["fp32", "bf16", "fp16"]


def select_device(name: str = "auto") -> torch.device:
    """Return the device to train on: ``auto`` picks CUDA, then Apple MPS, then the CPU.

    Raises:
        ConfigurationError: A named device is not available here.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ConfigurationError(
            f"unknown device {name!r}", path="trainer.device", hint="auto, cpu, cuda, cuda:1, mps"
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigurationError(
            "CUDA is not available on this machine", path="trainer.device", hint="use 'auto' or 'cpu'"
        )
    return device


@contextlib.contextmanager
def autocast(device: torch.device, precision: Precision) -> Iterator[None]:
    """Run the enclosed forward pass in the requested precision (no-op for fp32)."""
    if precision == "fp32":
        yield
        return
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    if precision == "fp16" and device.type == "cpu":
        raise ConfigurationError(
            "fp16 autocast needs a GPU", path="trainer.precision", hint="use 'bf16' on the CPU"
        )
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def make_grad_scaler(device: torch.device, precision: Precision) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for fp16 on CUDA where it is needed."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")
