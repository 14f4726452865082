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

    The plugin is loaded alone with the built-ins and in strict mode, so that any failure
    raises instead of leaving it out.
    """
    from mtdnn.api import dry_run, load_config
    from mtdnn.cli import make_cli
    from mtdnn.hooks import build_registry, get_plugin_manager, jsonnet_paths

    found = find_entry_points(name)
    if not found:
        installed = sorted(entry.name for entry in entry_points(group="mtdnn"))
        yield f"no installed plugin {name!r} (installed: {', '.join(installed) or 'none'})", False
        return
    described = ", ".join(
        f"{e.name} = {e.value}" + (f" ({e.dist.name} {e.dist.version})" if e.dist else "") for e in found
    )
    try:
        pm = get_plugin_manager(entry_point_list=found, strict=True)
        plugins = [pm.get_plugin(entry.name) for entry in found]
        hooks = sorted({caller.name for plugin in plugins for caller in pm.get_hookcallers(plugin) or []})
        yield f"imports, with known hooks and argument names: {described}; hooks: {', '.join(hooks)}", True
        core = build_registry(get_plugin_manager(autoload=False))
        registry = build_registry(pm)
        added = [
            f"{kind} {component!r}"
            for kind, base in registry.kinds().items()
            for component in registry.names(base)
            if kind not in core.kinds() or component not in core.names(core.kinds()[kind])
        ]
        yield f"registers: {', '.join(added) or 'nothing'}", True
        core_commands = set(make_cli(get_plugin_manager(autoload=False)).commands)
        commands = sorted(set(make_cli(pm).commands) - core_commands)
        yield f"adds commands: {', '.join(commands) or 'none'}", True
        builtin = set(jsonnet_paths(get_plugin_manager(autoload=False)))
        folders = [str(path) for path in jsonnet_paths(pm) if path not in builtin]
        yield f"jsonnet folders: {', '.join(folders) or 'none'}", True
    except Exception as exc:
        yield f"{type(exc).__name__}: {exc}", False
        return
    for package in sorted({entry.value.split(":")[0].split(".")[0] for entry in found}):
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
