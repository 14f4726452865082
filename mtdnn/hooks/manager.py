"""Build the plugin manager and the registry; nothing here runs at import time."""

from __future__ import annotations

import difflib
import importlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points, version
from pathlib import Path
from typing import Any, cast

import pluggy

from mtdnn.errors import MtdnnError, PluginError
from mtdnn.hooks import specs
from mtdnn.hooks.markers import PROJECT
from mtdnn.registry import Registry

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mtdnn"
DISABLE_AUTOLOAD_ENV = "MTDNN_DISABLE_PLUGIN_AUTOLOAD"
STRICT_ENV = "MTDNN_STRICT_PLUGINS"
TRACE_ENV = "MTDNN_TRACE_HOOKS"
LEFT_OUT = (
    f"it is left out, and everything else works ({DISABLE_AUTOLOAD_ENV}=1 loads no installed "
    f"plugin; {STRICT_ENV}=1 makes this an error; mtdnn -v shows the traceback)"
)

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
    """A pluggy manager that also remembers where each plugin came from and which failed.

    Args:
        strict: Raise on a failing installed plugin instead of leaving it out (``None`` reads
            ``MTDNN_STRICT_PLUGINS``).
    """

    def __init__(self, *, strict: bool | None = None) -> None:
        super().__init__(PROJECT)
        self.loaded = LoadedPlugins()
        self.strict = _env_flag(STRICT_ENV) if strict is None else strict

    def forgiving(self, name: str) -> bool:
        """Whether a failure of plugin ``name`` leaves it out (an installed plugin, not strict) or raises."""
        info = self.loaded.infos.get(name)
        return not self.strict and info is not None and info.source == "entry_point"

    def leave_out(self, name: str | None, error: PluginError) -> None:
        """Unregister plugin ``name`` (``None``: never registered), record ``error`` and warn.

        The warning carries the traceback of the error's cause under ``mtdnn -v``.
        """
        if name is not None:
            if self.has_plugin(name):
                self.unregister(name=name)
            self.loaded.infos.pop(name, None)
        self.loaded.failures.append(error)
        verbose = logger.isEnabledFor(logging.INFO)
        logger.warning("%s; %s", error, LEFT_OUT, exc_info=error.__cause__ if verbose else None)

    def label(self, name: str) -> str:
        """The distribution of plugin ``name`` (or the name) for messages."""
        info = self.loaded.infos.get(name)
        return (info.distribution if info else None) or name


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def get_plugin_manager(
    *,
    plugins: Sequence[str] = (),
    autoload: bool | None = None,
    entry_point_list: Iterable[EntryPoint] | None = None,
    strict: bool | None = None,
) -> MtdnnPluginManager:
    """Create a plugin manager with the built-ins, installed plugins and named modules.

    Args:
        plugins: Module names to import and register (``mtdnn --plugin MODULE``). A module that
            fails to import raises, since the user asked for it by name.
        autoload: Load entry points of group ``mtdnn``; ``None`` reads
            ``MTDNN_DISABLE_PLUGIN_AUTOLOAD`` (``1`` disables).
        entry_point_list: The entry points to consider instead of the installed ones (tests).
        strict: Raise on a failing installed plugin (``None`` reads ``MTDNN_STRICT_PLUGINS``).

    An installed plugin that fails (it does not import, implements an unknown hook, misnames a
    hook argument, or takes the name of a loaded plugin) is left out and reported in
    ``manager.loaded.failures`` with a warning, and so later is one whose hook raises (see
    :func:`build_registry`, :func:`jsonnet_paths` and :func:`mtdnn.cli.make_cli`). A module
    named in ``plugins`` was asked for by name, so its failures raise, as every failure does in
    strict mode.

    Returns:
        The manager; ``manager.loaded`` lists sources and failed plugins.

    Raises:
        PluginError: A named module (or, in strict mode, any plugin) failed as above.
    """
    pm = MtdnnPluginManager(strict=strict)
    pm.add_hookspecs(specs)
    if os.environ.get(TRACE_ENV) == "1":
        pm.trace.root.setwriter(lambda message: logger.info("%s", message.rstrip()))
        pm.enable_tracing()
    if autoload is None:
        autoload = not _env_flag(DISABLE_AUTOLOAD_ENV)
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
    pm.check_pending()  # every plugin's hooks were checked as it was registered
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
    unknown = sorted(caller.name for caller in pm.get_hookcallers(module) or [] if not caller.has_spec())
    if unknown:
        pm.unregister(module)
        hooks = ", ".join(sorted(hook for hook in vars(specs) if hook.startswith("mtdnn_")))
        close = difflib.get_close_matches(unknown[0], hooks.split(", "), n=1)
        raise PluginError(
            f"implements an unknown hook {unknown[0]!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; the hooks are {hooks}",
            plugin=info.distribution or info.name,
        )
    pm.loaded.infos[info.name] = info


def _load_entry_point(pm: MtdnnPluginManager, entry_point: EntryPoint) -> None:
    distribution = entry_point.dist.name if entry_point.dist is not None else None
    version = entry_point.dist.version if entry_point.dist is not None else None
    label = distribution or entry_point.name
    info = PluginInfo(entry_point.name, "entry_point", distribution, version)
    try:
        incompatible = _incompatible(entry_point)
        if incompatible is not None:
            raise PluginError(incompatible, plugin=label)
        try:
            module = entry_point.load()
        except Exception as exc:
            raise PluginError(f"failed to import {entry_point.value!r}: {exc!r}", plugin=label) from exc
        _register(pm, module, info)
    except PluginError as failure:
        if pm.strict:
            raise
        pm.leave_out(None, failure)  # never registered: nothing to unregister


def _incompatible(entry_point: EntryPoint) -> str | None:
    """Why the plugin's distribution cannot run with this mtdnn: its ``mtdnn`` requirement excludes us.

    The convention: a plugin declares the mtdnn versions it works with as a dependency
    (``dependencies = ["mtdnn>=0.1,<0.2"]``); pip checks it at install time, this at load time
    (mtdnn may have been upgraded since).
    """
    if entry_point.dist is None:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    mine = version("mtdnn")
    for text in entry_point.dist.requires or []:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.name.lower() != "mtdnn" or requirement.marker is not None:
            continue
        if requirement.specifier and not requirement.specifier.contains(mine, prereleases=True):
            return (
                f"works with mtdnn{requirement.specifier}, and this is mtdnn {mine} (install a version "
                "of the plugin made for it)"
            )
    return None


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
    for name, call in _implementations(pm, "mtdnn_register"):
        saved = registry.snapshot()
        try:
            call(registry=registry)
        except Exception as exc:
            if not _forgiving(pm, name):
                raise
            registry.restore(saved)  # none of its components stay
            _leave_out(pm, name, f"its mtdnn_register hook failed: {_reason(exc)}", exc)
    return registry


def _implementations(pm: pluggy.PluginManager, hook: str) -> list[tuple[str, Any]]:
    """Each plugin's implementation of ``hook``, in the order pluggy calls them, with the plugin's name.

    Each is called through pluggy (a hook caller without the other plugins), so that hook
    tracing (``MTDNN_TRACE_HOOKS``) still sees every call.
    """
    found = []
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):
        others = [plugin for plugin in pm.get_plugins() if plugin is not impl.plugin]
        found.append((impl.plugin_name, pm.subset_hook_caller(hook, remove_plugins=others)))
    return found


def _forgiving(pm: pluggy.PluginManager, name: str) -> bool:
    return isinstance(pm, MtdnnPluginManager) and pm.forgiving(name)


def _leave_out(pm: pluggy.PluginManager, name: str, reason: str, cause: BaseException) -> None:
    assert isinstance(pm, MtdnnPluginManager)
    error = PluginError(reason, plugin=pm.label(name))
    error.__cause__ = cause
    pm.leave_out(name, error)


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, MtdnnError) else f"{type(exc).__name__}: {exc}"


def call_leniently(pm: pluggy.PluginManager, hook: str, what: str, undo: Any = None, **kwargs: Any) -> None:
    """Call every implementation of ``hook``; an installed plugin whose implementation raises is left out.

    Args:
        pm: The plugin manager.
        hook: The hook's name.
        what: What the hook does, for the report (``"adding its commands"``).
        undo: Called with no arguments before the implementation and returning a callable that
            undoes what it did (e.g. removes the commands it added), if anything can be undone.
        **kwargs: The hook's arguments.

    Raises:
        Exception: A built-in's or a named module's implementation raised (or any, in strict mode).
    """
    for name, call in _implementations(pm, hook):
        restore = undo() if undo is not None else None
        try:
            call(**kwargs)
        except Exception as exc:
            if not _forgiving(pm, name):
                raise
            if restore is not None:
                restore()
            _leave_out(pm, name, f"{what} failed: {_reason(exc)}", exc)


def jsonnet_paths(pm: pluggy.PluginManager) -> list[Path]:
    """The jsonnet import directories that plugins contribute, in plugin order.

    An installed plugin whose hook raises or names a missing directory is left out (reported).

    Raises:
        PluginError: A built-in or a named module returned a directory that does not exist.
    """
    paths: list[Path] = []
    for name, call in _implementations(pm, "mtdnn_jsonnet_paths"):
        try:
            returned = cast("list[list[str | Path] | None]", call())  # one list per implementation
            entries = [Path(entry) for found in returned for entry in found or []]
            missing = [str(path) for path in entries if not path.is_dir()]
            if missing:
                raise PluginError(f"jsonnet path {missing[0]!r} is not a directory", plugin=name)
        except Exception as exc:
            if not _forgiving(pm, name):
                raise
            _leave_out(pm, name, f"its mtdnn_jsonnet_paths hook failed: {_reason(exc)}", exc)
            continue
        paths += entries
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
