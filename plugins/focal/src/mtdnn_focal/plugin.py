"""The hook implementations of mtdnn-focal: what it adds to mtdnn (found through its entry point)."""

from __future__ import annotations

from pathlib import Path

from mtdnn import Registry, hookimpl

JSONNET = Path(__file__).resolve().parent / "jsonnet"


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the `focal` loss (imported here: mtdnn loads every plugin at every start)."""
    from mtdnn.losses.base import Loss
    from mtdnn_focal.loss import FocalLoss

    registry.add(Loss, "focal", FocalLoss)


@hookimpl
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """Ship `focal.libsonnet`, so that configs can `import 'focal.libsonnet'`."""
    return [JSONNET]
