"""Plugin discovery (pluggy + entry points) and assembly of the component registry."""

from __future__ import annotations

from mtdnn.hooks.manager import (
    BUILTIN_PLUGINS,
    LoadedPlugins,
    build_registry,
    get_plugin_manager,
    jsonnet_paths,
    plugin_report,
)
from mtdnn.hooks.markers import hookimpl, hookspec

__all__ = [
    "BUILTIN_PLUGINS",
    "LoadedPlugins",
    "build_registry",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "jsonnet_paths",
    "plugin_report",
]
