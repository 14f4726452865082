"""Running means of the training loss and of the scalars an objective reports."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.distributed as dist

__all__ = ["RunningMeans"]


class RunningMeans:
    """The mean of each named scalar over the batches that reported it since the last reset.

    Sums stay on the device, so adding costs no synchronisation; :meth:`means` reads them. The
    state (float32 sums and counts) round-trips through JSON exactly, so a resumed run reports
    the same means as an uninterrupted one.
    """

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {}

    def add(self, values: Mapping[str, torch.Tensor]) -> None:
        """Add one batch's scalars."""
        for name, value in values.items():
            value = value.detach().float().reshape(())
            total = self._sums.get(name)
            self._sums[name] = value.clone() if total is None else total + value
            self._counts[name] = self._counts.get(name, 0) + 1

    def means(self, *, all_ranks: bool = False) -> dict[str, float]:
        """The mean of every scalar (in name order); with ``all_ranks``, over every data-parallel rank.

        With ``all_ranks`` every rank must call this at the same point with the same names.
        """
        names = sorted(self._sums)
        if not names:
            return {}
        sums = torch.stack([self._sums[name] for name in names])
        counts = torch.tensor([self._counts[name] for name in names], dtype=torch.float32, device=sums.device)
        if all_ranks and dist.is_available() and dist.is_initialized():
            dist.all_reduce(sums)
            dist.all_reduce(counts)
        return {name: float(total / count) for name, total, count in zip(names, sums, counts, strict=True)}

    def reset(self) -> None:
        """Forget everything added so far."""
        self._sums, self._counts = {}, {}

    def state_dict(self) -> dict[str, dict[str, float]]:
        """The sums and counts (JSON-ready)."""
        return {
            "sums": {name: float(total) for name, total in self._sums.items()},
            "counts": {name: float(count) for name, count in self._counts.items()},
        }

    def load_state_dict(self, state: Mapping[str, Mapping[str, float]], device: torch.device) -> None:
        """Restore what :meth:`state_dict` returned, with the sums on ``device``."""
        self._sums = {
            name: torch.tensor(total, dtype=torch.float32, device=device)
            for name, total in state["sums"].items()
        }
        self._counts = {name: int(count) for name, count in state["counts"].items()}
