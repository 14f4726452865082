"""The plugin module named by the ``mtdnn`` entry point: hook implementations only."""

from __future__ import annotations

from pathlib import Path

from mtdnn import hookimpl
from mtdnn.registry import Registry

JSONNET = Path(__file__).parent / "jsonnet"


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the biomedical readers and metrics."""


@hookimpl
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """Put ``bio.libsonnet`` on the jsonnet import path."""
    return [JSONNET]
