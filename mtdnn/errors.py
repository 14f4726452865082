"""Errors a user can act on: each says where, what and how to fix it."""

from __future__ import annotations

__all__ = ["ConfigurationError", "DataError", "MtdnnError", "PluginError"]


class MtdnnError(Exception):
    """Base class of every error mtdnn raises on purpose."""


class ConfigurationError(MtdnnError):
    """A configuration value is wrong; the message names the config path and how to fix it.

    A component's constructor raises with a path relative to itself (``label_smoothing``, or no
    path for the component as a whole); :func:`mtdnn.config.build` puts the path where the
    component sits in the config in front (``tasks.rte.loss.label_smoothing``).

    Args:
        message: What is wrong.
        path: Dotted path of the offending value inside the config (``tasks.sst2.head.type``).
        hint: How to fix it (valid choices, a did-you-mean suggestion).
    """

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.path = path
        self.hint = hint
        text = f"{path}: {message}" if path else message
        if hint:
            text = f"{text}\n  hint: {hint}"
        super().__init__(text)

    def under(self, prefix: str) -> ConfigurationError:
        """The same error with its path placed under ``prefix`` (``prefix`` itself when it has none)."""
        if not prefix:
            return self
        path = f"{prefix}.{self.path}" if self.path else prefix
        return ConfigurationError(self.message, path=path, hint=self.hint)


class DataError(MtdnnError):
    """An input file is malformed; the message names the file and line.

    Args:
        message: What is wrong with the input.
        file: The file being read.
        line: 1-based line number, when known.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = file or ""
        if file and line is not None:
            where = f"{file}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class PluginError(MtdnnError):
    """A plugin could not be loaded or misbehaved; the message names its distribution.

    Args:
        message: What went wrong.
        plugin: The distribution (or module) name of the plugin.
    """

    def __init__(self, message: str, *, plugin: str) -> None:
        self.message = message
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")
