"""Built-in readers: turn data files into examples."""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.readers.base import Reader
from mtdnn.readers.glue import GlueReader
from mtdnn.registry import Registry

__all__ = ["GlueReader", "Reader"]


@hookimpl
def mtdnn_register(registry: Registry) -> None:
    """Register the built-in readers."""
    registry.add(Reader, "glue", GlueReader)
