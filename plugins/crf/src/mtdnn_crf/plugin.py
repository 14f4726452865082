"""The hook implementations of mtdnn-crf: the `crf` head and loss, and `crf.libsonnet`."""

from __future__ import annotations

from pathlib import Path

from mtdnn import Registry, hookimpl

JSONNET = Path(__file__).resolve().parent / "jsonnet"


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the `crf` head and the `crf` loss (imported here: mtdnn loads every plugin at every start)."""
    from mtdnn.heads.base import Head
    from mtdnn.losses.base import Loss
    from mtdnn_crf.crf import CrfHead, CrfLoss

    registry.add(Head, "crf", CrfHead)
    registry.add(Loss, "crf", CrfLoss)


@hookimpl
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """Ship `crf.libsonnet`."""
    return [JSONNET]
