"""``mtdnn plugins check``: load one installed plugin strictly and exercise every hook it implements."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

__all__ = ["check_plugin", "find_entry_points"]


def find_entry_points(name: str) -> list[EntryPoint]:
    """The ``mtdnn`` entry points of NAME: an entry-point name, a distribution or a top-level module."""
    wanted = {name, name.replace("_", "-"), name.replace("-", "_")}
    found = []
    for entry in entry_points(group="mtdnn"):
        module = entry.value.split(":")[0]
        dist = entry.dist.name if entry.dist is not None else None
        if entry.name in wanted or dist in wanted or module.split(".")[0] in wanted:
            found.append(entry)
    return found


def check_plugin(name: str) -> Iterator[tuple[str, bool]]:
    """Yield ``(what was checked, passed)`` for plugin NAME; it stops at the first failure.

    Every installed plugin is loaded (a plugin may build on another's components or jsonnet
    files), and any failure of NAME's (which would leave it out) fails the check; the other
    plugins' failures are only warned about.
    """
    from mtdnn.api import dry_run, load_config
    from mtdnn.cli import make_cli
    from mtdnn.hooks import build_registry, get_plugin_manager, jsonnet_paths
    from mtdnn.hooks.manager import MtdnnPluginManager

    found = find_entry_points(name)
    if not found:
        installed = sorted(entry.name for entry in entry_points(group="mtdnn"))
        yield f"no installed plugin {name!r} (installed: {', '.join(installed) or 'none'})", False
        return
    described = ", ".join(
        f"{e.name} = {e.value}" + (f" ({e.dist.name} {e.dist.version})" if e.dist else "") for e in found
    )
    mine = {entry.dist.name if entry.dist is not None else entry.name for entry in found}

    def failed(pm: MtdnnPluginManager) -> str | None:
        errors = [failure.message for failure in pm.loaded.failures if failure.plugin in mine]
        return "; ".join(errors) or None

    try:
        pm = get_plugin_manager()  # with every installed plugin: a plugin may build on another's
        problem = failed(pm)
        if problem is not None:
            yield f"loading {described}: {problem}", False
            return
        plugins = [pm.get_plugin(entry.name) for entry in found]
        hooks = sorted({caller.name for plugin in plugins for caller in pm.get_hookcallers(plugin) or []})
        yield f"imports, with known hooks and argument names: {described}; hooks: {', '.join(hooks)}", True
        registry = build_registry(pm)
        added = [
            f"{kind} {component!r}"
            for kind, base in registry.kinds().items()
            for component in registry.names(base)
            if _provider(registry.resolve(base, component)) in _packages(found)
        ]
        packages = _packages(found)
        cli = make_cli(pm)
        commands = sorted(
            name
            for name, command in cli.commands.items()
            if command.callback is not None and _provider(command.callback) in packages
        )
        roots = [Path(importlib.import_module(name).__file__ or ".").resolve().parent for name in packages]
        paths = jsonnet_paths(pm)
        folders = [str(path) for path in paths if any(path.resolve().is_relative_to(r) for r in roots)]
        problem = failed(pm)
        if problem is not None:
            yield problem, False
            return
        yield f"registers: {', '.join(added) or 'nothing'}", True
        yield f"adds commands: {', '.join(commands) or 'none'}", True
        yield f"jsonnet folders: {', '.join(folders) or 'none'}", True
    except Exception as exc:
        yield f"{type(exc).__name__}: {exc}", False
        return
    for package in _packages(found):
        module = importlib.import_module(package)
        examples = sorted((Path(module.__file__ or ".").resolve().parent / "examples").glob("*.jsonnet"))
        for example in examples:
            try:
                report = dry_run(load_config(example, pm), registry)
            except Exception as exc:
                yield f"dry run of {example}: {type(exc).__name__}: {exc}", False
                return
            yield f"dry run of {example}: tasks {', '.join(report.tasks)}", True
        if not examples:
            yield f"no example configs in {package}/examples/ to dry-run", True


def _packages(found: list[EntryPoint]) -> list[str]:
    return sorted({entry.value.split(":")[0].split(".")[0] for entry in found})


def _provider(thing: object) -> str:
    """The top-level package a class or function comes from."""
    return str(getattr(thing, "__module__", "")).split(".")[0]
