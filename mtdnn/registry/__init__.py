"""The component registry: kinds (base classes) and the named classes registered for them."""

from __future__ import annotations

from mtdnn.registry.registry import NAME_PATTERN, Registry, qualified_name

__all__ = ["NAME_PATTERN", "Registry", "qualified_name"]
