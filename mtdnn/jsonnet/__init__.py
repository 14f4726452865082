"""The jsonnet library shipped with mtdnn (``import 'glue.libsonnet'``), as package data."""

from __future__ import annotations

from pathlib import Path

from mtdnn.hooks.markers import hookimpl

__all__ = ["mtdnn_jsonnet_paths"]


@hookimpl
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """This folder: its ``.libsonnet`` files install with the package, so configs find them anywhere."""
    return [Path(__file__).resolve().parent]
