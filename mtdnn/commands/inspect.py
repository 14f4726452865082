"""``mtdnn plugins`` and ``mtdnn registry list``: what is installed and registered."""

from __future__ import annotations

import inspect
import json

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option
from mtdnn.hooks.manager import MtdnnPluginManager, plugin_report

__all__ = ["plugins_command", "registry_group"]


@click.command("plugins")
@plugin_option
@click.pass_obj
def plugins_command(app: AppContext, plugins: tuple[str, ...]) -> None:
    """Print the loaded plugins (name, source, version, hooks) and failed ones as JSON."""
    report = (
        plugin_report(app.pm) if isinstance(app.pm, MtdnnPluginManager) else {"plugins": [], "failures": []}
    )
    click.echo(json.dumps(report, indent=2))


@click.group("registry")
def registry_group() -> None:
    """Inspect the component registry."""


@registry_group.command("list")
@click.option("--kind", help="Only this kind (encoder, head, loss, metric, reader, sampler, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@plugin_option
@click.pass_obj
def registry_list(app: AppContext, kind: str | None, as_json: bool, plugins: tuple[str, ...]) -> None:
    """List every registered name with its class and the first line of its docstring."""
    registry = app.registry
    kinds = registry.kinds()
    if kind is not None and kind not in kinds:
        raise click.BadParameter(f"unknown kind {kind!r}; kinds: {', '.join(kinds)}", param_hint="--kind")
    rows = []
    for kind_name, base in kinds.items():
        if kind is not None and kind_name != kind:
            continue
        for name, cls in registry.items(base):
            # ``cls.__doc__``, not ``inspect.getdoc``: that one shows the base class's docstring
            # for an undocumented component.
            summary = inspect.cleandoc(cls.__doc__ or "").splitlines()
            rows.append(
                {
                    "kind": kind_name,
                    "name": name,
                    "class": f"{cls.__module__}.{cls.__qualname__}",
                    "summary": summary[0] if summary else "",
                }
            )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    kind_width = max((len(row["kind"]) for row in rows), default=0)
    name_width = max((len(row["name"]) for row in rows), default=0)
    for row in rows:
        click.echo(f"{row['kind']:<{kind_width}}  {row['name']:<{name_width}}  {row['class']}")
        if row["summary"]:
            click.echo(f"{'':<{kind_width + name_width + 4}}{row['summary']}")
