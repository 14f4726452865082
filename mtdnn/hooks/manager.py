"""Build the plugin manager and the registry; nothing here runs at import time."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, cast

import pluggy

from mtdnn.errors import PluginError
from mtdnn.hooks import specs
from mtdnn.hooks.markers import PROJECT
from mtdnn.registry import Registry

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mtdnn"
DISABLE_AUTOLOAD_ENV = "MTDNN_DISABLE_PLUGIN_AUTOLOAD"
TRACE_ENV = "MTDNN_TRACE_HOOKS"

# The built-in kinds, components, commands and jsonnet library, registered through the same hooks a
# plugin uses (by light modules that import the packages only when a hook runs).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "mtdnn.builtin.kinds",
    "mtdnn.builtin.components",
    "mtdnn.commands",
    "mtdnn.jsonnet",
)


@dataclass(frozen=True)
class PluginInfo:
    """Where a loaded plugin came from.

    Args:
        name: The name the plugin is registered under in the plugin manager.
        source: ``builtin``, ``entry_point`` or ``command_line``.
        distribution: The installed distribution providing it, if any.
        version: That distribution's version, if any.
    """

    name: str
    source: str
    distribution: str | None = None
    version: str | None = None


@dataclass
class LoadedPlugins:
    """What plugin loading found: the plugins registered and those that failed."""

    infos: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginError] = field(default_factory=list)


class MtdnnPluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where each plugin came from and which failed."""

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.loaded = LoadedPlugins()


def get_plugin_manager(
    *,
    plugins: Sequence[str] = (),
    autoload: bool | None = None,
    entry_point_list: Iterable[EntryPoint] | None = None,
) -> MtdnnPluginManager:
    """Create a plugin manager with the built-ins, installed plugins and named modules.

    Args:
        plugins: Module names to import and register (``mtdnn --plugin MODULE``). A module that
            fails to import raises, since the user asked for it by name.
        autoload: Load entry points of group ``mtdnn``; ``None`` reads
            ``MTDNN_DISABLE_PLUGIN_AUTOLOAD`` (``1`` disables).
        entry_point_list: The entry points to consider instead of the installed ones (tests).

    Returns:
        The manager; ``manager.loaded`` lists sources and failed plugins.

    Raises:
        PluginError: A named module failed to import, two plugins share a name, or a plugin
            implements a hook that does not exist (a misspelling).
    """
    pm = MtdnnPluginManager()
    pm.add_hookspecs(specs)
    if os.environ.get(TRACE_ENV) == "1":
        pm.trace.root.setwriter(lambda message: logger.info("%s", message.rstrip()))
        pm.enable_tracing()
    if autoload is None:
        autoload = os.environ.get(DISABLE_AUTOLOAD_ENV, "") not in {"1", "true", "yes"}
    if autoload:
        found = entry_point_list
        if found is None:
            found = entry_points(group=ENTRY_POINT_GROUP)
        for entry_point in found:
            _load_entry_point(pm, entry_point)
    for module_name in plugins:
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise PluginError(f"cannot import module: {exc!r}", plugin=module_name) from exc
        _register(pm, module, PluginInfo(module_name, "command_line"))
    # pluggy calls the last registered plugin first, so the built-ins are registered last: their
    # components and commands exist before any plugin's, which can then override one explicitly
    # (``replace=True``), and a collision error names the plugin's class as the newcomer.
    for module_name in BUILTIN_PLUGINS:
        _register(pm, importlib.import_module(module_name), PluginInfo(module_name, "builtin"))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        offender = pm.loaded.infos.get(name)
        hooks = ", ".join(sorted(hook for hook in vars(specs) if hook.startswith("mtdnn_")))
        raise PluginError(
            f"implements an unknown hook: {exc} (the hooks are {hooks})",
            plugin=(offender.distribution if offender else None) or name,
        ) from exc
    return pm


def _register(pm: MtdnnPluginManager, module: object, info: PluginInfo) -> None:
    if pm.has_plugin(info.name) or info.name in pm.loaded.infos:
        taken = pm.loaded.infos.get(info.name)
        where = f" (already provided by {taken.distribution or taken.name})" if taken else ""
        raise PluginError(
            f"the plugin name {info.name!r} is taken{where}", plugin=info.distribution or info.name
        )
    if pm.is_registered(module):
        raise PluginError(
            f"module {getattr(module, '__name__', module)!r} is already loaded as plugin "
            f"{pm.get_name(module)!r}",
            plugin=info.distribution or info.name,
        )
    try:
        pm.register(module, name=info.name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc), plugin=info.distribution or info.name) from exc
    pm.loaded.infos[info.name] = info


def _load_entry_point(pm: MtdnnPluginManager, entry_point: EntryPoint) -> None:
    distribution = entry_point.dist.name if entry_point.dist is not None else None
    version = entry_point.dist.version if entry_point.dist is not None else None
    label = distribution or entry_point.name
    try:
        module = entry_point.load()
    except Exception as exc:
        failure = PluginError(f"failed to import {entry_point.value!r}: {exc!r}", plugin=label)
        logger.warning("%s; continuing without it", failure)
        pm.loaded.failures.append(failure)
        return
    info = PluginInfo(entry_point.name, "entry_point", distribution, version)
    try:
        _register(pm, module, info)
    except PluginError as exc:
        if not isinstance(exc.__cause__, pluggy.PluginValidationError):
            raise  # a name collision is fatal, as for every other kind of name
        logger.warning("%s; continuing without it", exc)
        pm.loaded.failures.append(exc)


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Create a registry and fill it through ``mtdnn_register``.

    The core kinds come from the built-in plugin ``mtdnn.builtin.kinds``, whose implementation runs
    first; then every package and plugin adds its components.

    Args:
        pm: A manager from :func:`get_plugin_manager`.

    Returns:
        A new registry (a fresh one on every call).
    """
    registry = Registry()
    pm.hook.mtdnn_register(registry=registry)
    return registry


def jsonnet_paths(pm: pluggy.PluginManager) -> list[Path]:
    """The jsonnet import directories that plugins contribute, in plugin order.

    Raises:
        PluginError: A plugin returned a directory that does not exist.
    """
    paths: list[Path] = []
    for impl in reversed(pm.hook.mtdnn_jsonnet_paths.get_hookimpls()):
        entries = cast("list[str | Path]", impl.function() or [])
        for entry in entries:
            path = Path(entry)
            if not path.is_dir():
                raise PluginError(f"jsonnet path {str(path)!r} is not a directory", plugin=impl.plugin_name)
            paths.append(path)
    return paths


def plugin_report(pm: MtdnnPluginManager) -> dict[str, Any]:
    """A JSON-ready description of the loaded plugins, their hooks and the failures."""
    plugins = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        info = pm.loaded.infos.get(name, PluginInfo(name, "unknown"))
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        plugins.append(
            {
                "name": name,
                "source": info.source,
                "distribution": info.distribution,
                "version": info.version,
                "hooks": hooks,
            }
        )
    failures = [{"plugin": failure.plugin, "error": failure.message} for failure in pm.loaded.failures]
    return {
        "plugins": sorted(plugins, key=lambda p: (p["source"] != "builtin", p["name"])),
        "failures": failures,
    }
