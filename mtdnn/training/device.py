"""Device selection and mixed precision behind one small helper."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import torch

from mtdnn.errors import ConfigurationError

__all__ = [
    "Autocast",
    "Precision",
    "autocast",
    "cgroup_cpu_limit",
    "configure_threads",
    "make_grad_scaler",
    "native_bf16",
    "resolve_precision",
    "select_device",
    "usable_cpus",
]

logger = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16", "fp16"]
"""What a config may ask for; ``auto`` is resolved per device by :func:`resolve_precision`."""

Autocast = Literal["fp32", "bf16", "fp16"]
"""A resolved precision: what the forward passes actually run in."""


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


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 matrix products in hardware.

    A CUDA GPU that supports bf16 (Ampere and later), or a CPU with AVX-512 BF16 or AMX tiles.
    Elsewhere (an AVX2-only CPU, Apple MPS) bf16 is emulated and slower than fp32.
    """
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    if device.type == "cpu":  # private probes of torch's CPU capabilities; absent in old versions
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
    return False


def _hardware(device: torch.device) -> str:
    if device.type == "cpu":
        return f"this CPU ({torch.backends.cpu.get_cpu_capability()})"
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"the {device.type} device"


def resolve_precision(
    device: torch.device, precision: Precision, *, fp32_reason: str | None = None
) -> Autocast:
    """The precision to run in on ``device``: ``auto`` becomes bf16 where it is native, else fp32.

    The choice is logged (INFO); an explicit ``bf16`` where the hardware only emulates it is
    allowed but warned about, since it is far slower than fp32 there (matrix products about
    400x slower on an AVX2 CPU, measured in ``docs/performance.md``).

    Args:
        fp32_reason: Why the run must be in fp32 (the objective's
            :meth:`~mtdnn.training.objective.Objective.fp32_reason`): ``auto`` then picks fp32,
            and an explicit ``bf16`` or ``fp16`` is warned about.

    Raises:
        ConfigurationError: ``fp16`` on the CPU.
    """
    if precision == "fp16" and device.type == "cpu":
        raise ConfigurationError(
            "fp16 autocast needs a GPU", path="trainer.precision", hint="use 'bf16' or 'auto' on the CPU"
        )
    native = native_bf16(device)
    if precision == "auto":
        resolved: Autocast = "bf16" if native and fp32_reason is None else "fp32"
        if native and fp32_reason is not None:
            logger.info("precision auto -> fp32: %s", fp32_reason)
        else:
            reason = "has" if native else "has no"
            logger.info("precision auto -> %s: %s %s native bf16", resolved, _hardware(device), reason)
        return resolved
    if precision in ("bf16", "fp16") and fp32_reason is not None:
        logger.warning(
            "precision %s: %s, so the objective's term measures rounding noise (use 'fp32' or 'auto')",
            precision,
            fp32_reason,
        )
    if precision == "bf16" and not native:
        logger.warning(
            "precision bf16 on %s, which has no native bf16: it is emulated and much slower than "
            "fp32 (use 'auto' to get bf16 only where the hardware has it)",
            _hardware(device),
        )
    logger.info("precision %s on %s", precision, _hardware(device))
    return precision


@contextlib.contextmanager
def autocast(device: torch.device, precision: Autocast) -> Iterator[None]:
    """Run the enclosed forward pass in the requested precision (no-op for fp32)."""
    if precision == "fp32":
        yield
        return
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    if precision == "fp16" and device.type == "cpu":
        raise ConfigurationError(
            "fp16 autocast needs a GPU", path="trainer.precision", hint="use 'bf16' or 'auto' on the CPU"
        )
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def make_grad_scaler(device: torch.device, precision: Autocast) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for fp16 on CUDA where it is needed."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def cgroup_cpu_limit(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's control group (``docker --cpus``, Kubernetes limits), if any.

    Reads cgroup v2 (``cpu.max``: ``quota period``) or v1 (``cpu/cpu.cfs_quota_us`` over
    ``cpu/cpu.cfs_period_us``); ``None`` where there is no quota or no such file.
    """
    try:
        v2 = root / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        v1 = root / "cpu" / "cpu.cfs_quota_us"
        if v1.is_file():
            quota_us = int(v1.read_text())
            return None if quota_us <= 0 else quota_us / int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None


def usable_cpus(root: Path = Path("/sys/fs/cgroup")) -> tuple[int, str]:
    """How many CPUs this process may really use, and why: its affinity mask and its cgroup quota.

    torch sizes its thread pool from the machine's cores, which in a container with a CPU quota
    can be many times what the process may use; its threads then wait on each other.
    """
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_cpu_limit(root)
    if quota is not None and math.ceil(quota) < affinity:
        return max(1, math.ceil(quota)), f"cgroup quota of {quota:g} CPUs"
    return affinity, f"{affinity} CPUs in the affinity mask"


def configure_threads(root: Path = Path("/sys/fs/cgroup")) -> int:
    """Cap torch's intra-op threads at the usable CPUs (never raise them) and log the choice.

    ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` in the environment win: the user (or ``torchrun``,
    which sets ``OMP_NUM_THREADS=1``) has chosen. Returns the thread count in use.
    """
    chosen = [name for name in THREAD_VARIABLES if os.environ.get(name)]
    if chosen:
        logger.info("torch threads: %d (%s is set)", torch.get_num_threads(), chosen[0])
        return torch.get_num_threads()
    cpus, reason = usable_cpus(root)
    if torch.get_num_threads() > cpus:
        torch.set_num_threads(cpus)
    logger.info("torch threads: %d (%s)", torch.get_num_threads(), reason)
    return torch.get_num_threads()
