"""Adds the core kinds (:data:`mtdnn.kinds.CORE_KINDS`) to the registry before any component.

Importing this module is cheap: the kinds' base classes (and torch with them) are imported only
when the hook runs.
"""

from __future__ import annotations

from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry


@hookimpl(tryfirst=True)
def mtdnn_register(registry: Registry) -> None:
    """Add the core kinds (before any component is added)."""
    from mtdnn.kinds import CORE_KINDS

    for name, kind in CORE_KINDS:
        registry.add_kind(kind, name)
