"""mtdnn: multi-task deep neural networks for natural language understanding.

Importing this package does nothing but define names: plugins load through
:func:`mtdnn.hooks.get_plugin_manager` and the CLI is built by :func:`mtdnn.cli.make_cli`.
"""

from __future__ import annotations

from mtdnn.errors import ConfigurationError, DataError, MtdnnError, PluginError
from mtdnn.hooks.markers import hookimpl
from mtdnn.registry import Registry

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "DataError",
    "MtdnnError",
    "PluginError",
    "Registry",
    "__version__",
    "hookimpl",
]
