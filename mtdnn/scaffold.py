"""``mtdnn plugins new``: a complete, installable plugin package from the templates shipped with mtdnn."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from string import Template

from mtdnn.errors import ConfigurationError
from mtdnn.registry import Registry

__all__ = ["KINDS", "PluginKind", "new_plugin"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@dataclass(frozen=True)
class PluginKind:
    """What a plugin of one kind adds.

    Args:
        base: ``module:Class`` of the registry kind it registers under (``None``: a command).
        suffix: Appended to the class name (``FocalLoss``).
        summary: One line on what the generated component does (``{name}`` filled in).
        usage: How a config uses it (markdown, for the README).
    """

    base: str | None
    suffix: str
    summary: str
    usage: str


KINDS: dict[str, PluginKind] = {
    "head": PluginKind(
        "mtdnn.heads.base:Head",
        "Head",
        "A classification head that pools the token states by their mean (the `{name}` head).",
        "```jsonnet\nlocal plugin = import '{name}.libsonnet';\n// in a task:\n"
        "head: plugin.head(dropout=0.1),   // = {{ type: '{name}', dropout: 0.1 }}\n```",
    ),
    "loss": PluginKind(
        "mtdnn.losses.base:Loss",
        "Loss",
        "Focal loss for imbalanced classification (the `{name}` loss).",
        "```jsonnet\nlocal plugin = import '{name}.libsonnet';\n// in a task:\nloss: plugin.loss(gamma=2.0),"
        "   // = {{ type: '{name}', gamma: 2.0 }}\n```",
    ),
    "reader": PluginKind(
        "mtdnn.readers.base:Reader",
        "Reader",
        "A reader of fastText-style `__label__NAME text` files (the `{name}` reader).",
        "```jsonnet\nlocal plugin = import '{name}.libsonnet';\n// in a task:\nreader: plugin.reader(),"
        "   // = {{ type: '{name}' }}; labels collected from the training file\n```",
    ),
    "objective": PluginKind(
        "mtdnn.training.objective:Objective",
        "Objective",
        "A training objective that adds a penalty on the squared logits (the `{name}` objective).",
        "```jsonnet\nlocal plugin = import '{name}.libsonnet';\n// in the trainer:\nobjective: "
        "plugin.objective(weight=1e-3),   // = {{ type: '{name}', weight: 0.001 }}\n```",
    ),
    "metric": PluginKind(
        "mtdnn.metrics.base:Metric",
        "Metric",
        "Balanced accuracy, the mean of the per-class recalls (the `{name}` metric).",
        "```jsonnet\nlocal plugin = import '{name}.libsonnet';\n// in a task:\nmetrics: [plugin.metric(), "
        "{{ type: 'accuracy' }}],   // reported as {name}\n```",
    ),
    "command": PluginKind(
        None,
        "Command",
        "A command that prints the best dev scores of runs side by side (`mtdnn {name}`).",
        "```bash\nmtdnn {name} runs/first runs/second\n```",
    ),
}

_TEMPLATES = files("mtdnn") / "templates" / "plugin"


def new_plugin(name: str, kind: str, parent: Path, registry: Registry | None = None) -> Path:
    """Write the plugin package ``mtdnn-NAME`` of ``kind`` into ``parent`` and return its folder.

    The package registers one working component (or command) under ``name``, ships a jsonnet
    helper, an example config with a ten-line sample, a README and tests that pass as written.

    Args:
        name: The component's (and entry point's) name, snake_case.
        kind: ``head``, ``loss``, ``reader``, ``objective``, ``metric`` or ``command``.
        parent: The folder to create the package in.
        registry: When given, a name already registered for ``kind`` is refused.

    Raises:
        ConfigurationError: The name is not a valid snake_case name, is taken, or the package's
            folder exists (nothing is ever overwritten).
    """
    if kind not in KINDS:
        raise ConfigurationError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}", path="--kind")
    if not _NAME.match(name) or keyword.iskeyword(name) or name.startswith("mtdnn"):
        raise ConfigurationError(
            f"{name!r} is not a usable plugin name",
            path="NAME",
            hint="snake_case letters and digits starting with a letter, e.g. 'focal' or 'mean_pool', "
            "not a Python keyword and not starting with 'mtdnn'",
        )
    spec = KINDS[kind]
    if registry is not None and spec.base is not None:
        base = _base(spec)
        if name in registry.names(base):
            taken = registry.resolve(base, name)
            raise ConfigurationError(
                f"the {kind} name {name!r} is taken by {taken.__module__}.{taken.__qualname__}",
                path="NAME",
                hint=f"choose another name, e.g. 'my_{name}'",
            )
    dist = "mtdnn-" + name.replace("_", "-")
    folder = parent / dist
    if folder.exists():
        raise ConfigurationError(f"{str(folder)!r} exists; nothing is written over it", path="NAME")
    module = f"mtdnn_{name}"
    values = _values(name, kind, spec, module, dist)
    kind_dir = _TEMPLATES / "kinds" / kind
    written = {
        "pyproject.toml": _TEMPLATES / "pyproject.toml.tmpl",
        "README.md": _TEMPLATES / "README.md.tmpl",
        f"src/{module}/__init__.py": _TEMPLATES / "src" / "__init__.py.tmpl",
        f"src/{module}/plugin.py": _TEMPLATES / "src" / "plugin.py.tmpl",
        f"src/{module}/{kind}.py": kind_dir / "component.py.tmpl",
        f"src/{module}/jsonnet/{name}.libsonnet": kind_dir / "helper.libsonnet.tmpl",
        "tests/test_plugin.py": _TEMPLATES / "tests" / "test_plugin.py.tmpl",
        f"tests/test_{kind}.py": kind_dir / "test.py.tmpl",
    }
    if spec.base is not None:
        written[f"src/{module}/examples/example.jsonnet"] = kind_dir / "example.jsonnet.tmpl"
        sample = "data.txt" if kind == "reader" else "data.csv"
        source = kind_dir / "data.txt.tmpl" if kind == "reader" else _TEMPLATES / "src" / "data.csv.tmpl"
        written[f"src/{module}/examples/{sample}"] = source
    for relative, template in written.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(template.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
    return folder


def _base(spec: PluginKind) -> type:
    import importlib

    assert spec.base is not None
    module, _, cls = spec.base.partition(":")
    base: type = getattr(importlib.import_module(module), cls)
    return base


def _values(name: str, kind: str, spec: PluginKind, module: str, dist: str) -> dict[str, str]:
    camel = "".join(part.capitalize() for part in name.split("_"))
    cls = camel if camel.endswith(spec.suffix) else camel + spec.suffix
    if kind == "command":
        cls = f"{name}_command"
    major, minor = (int(part) for part in version("mtdnn").split(".")[:2])
    values = {
        "name": name,
        "kind": kind,
        "module": module,
        "dist": dist,
        "cls": cls,
        "summary": spec.summary.format(name=name),
        "usage": spec.usage.format(name=name),
        "mtdnn_range": f">={major}.{minor},<{major}.{minor + 1}",
    }
    values["example"] = (
        (
            "The example config `src/$module/examples/example.jsonnet` trains a small task on the "
            "ten-line sample next to it:\n\n```bash\nmtdnn train src/$module/examples/example.jsonnet "
            "-s runs/$name-example --dry-run\n```"
        )
        .replace("$module", module)
        .replace("$name", name)
    )
    if spec.base is None:
        values["example"] = "A command has no example config; `tests/test_command.py` runs the command."
        values["imports"] = "import click\n"
        values["hooks"] = (
            "\n@hookimpl\ndef mtdnn_register_commands(cli: click.Group) -> None:\n"
            f'    """Add `mtdnn {name}` (imported here: mtdnn loads every plugin at every start)."""\n'
            f"    from {module}.command import {cls}\n\n    cli.add_command({cls})\n"
        )
        values["extra_tests"] = (
            "\n\ndef test_the_command_is_added() -> None:\n"
            "    from mtdnn.cli import make_cli\n\n"
            f'    assert "{name}" in make_cli(get_plugin_manager(strict=True)).commands\n'
        )
        return values
    assert spec.base is not None
    base_module, _, base = spec.base.partition(":")
    values["imports"] = "from mtdnn import Registry\n"
    values["hooks"] = (
        "\n@hookimpl\ndef mtdnn_register(registry: Registry) -> None:\n"
        f'    """Register the `{name}` {kind} (imported here: mtdnn loads every plugin at every start)."""\n'
        f"    from {base_module} import {base}\n    from {module}.{kind} import {cls}\n\n"
        f'    registry.add({base}, "{name}", {cls})\n'
    )
    values["extra_tests"] = (
        f"\n\ndef test_the_{kind}_is_registered_and_the_example_config_runs_a_batch() -> None:\n"
        "    from mtdnn.api import dry_run, load_config\n"
        f"    from {base_module} import {base}\n"
        f"    from {module}.{kind} import {cls}\n\n"
        "    pm = get_plugin_manager(strict=True)\n"
        "    registry = build_registry(pm)\n"
        f'    assert registry.resolve({base}, "{name}") is {cls}\n'
        '    report = dry_run(load_config(EXAMPLES / "example.jsonnet", pm), registry)\n'
        '    assert list(report.tasks) == ["sentiment"]\n'
    )
    return values
