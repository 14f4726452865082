"""``mtdnn plugins``: the loaded and failed plugins, a new plugin from the scaffold, a check of one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option, text_table
from mtdnn.hooks.manager import DISABLE_AUTOLOAD_ENV, MtdnnPluginManager, jsonnet_paths, plugin_report

__all__ = ["plugins_command"]


@click.group("plugins", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@plugin_option
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool, plugins: tuple[str, ...]) -> None:
    """The plugins: loaded and failed ones (the default: `list`), a new one, a check of one."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(plugins_list, as_json=as_json)


@plugins_command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@plugin_option
@click.pass_obj
def plugins_list(app: AppContext, as_json: bool, plugins: tuple[str, ...] = ()) -> None:
    """List the loaded plugins (name, source, distribution, version, hooks) and the failed ones.

    Every hook runs first (the registry is built, the jsonnet paths collected), so a plugin that
    fails in one is listed among the failures.
    """
    if not isinstance(app.pm, MtdnnPluginManager):
        report: dict[str, Any] = {"plugins": [], "failures": []}
    else:
        app.registry  # noqa: B018 -- builds the registry: a failing mtdnn_register is reported
        jsonnet_paths(app.pm)
        report = plugin_report(app.pm)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    rows = [
        (p["name"], p["source"], p["distribution"] or "-", p["version"] or "-", ", ".join(p["hooks"]))
        for p in report["plugins"]
    ]
    click.echo(text_table(("plugin", "source", "distribution", "version", "hooks"), rows))
    if report["failures"]:
        click.echo(f"\nleft out ({len(report['failures'])}):")
        for failure in report["failures"]:
            click.echo(f"  {failure['plugin']}: {failure['error']}")
        click.echo(f"\n({DISABLE_AUTOLOAD_ENV}=1 loads no installed plugin; mtdnn -v plugins: tracebacks)")


@plugins_command.command("new")
@click.argument("name")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["head", "loss", "reader", "objective", "metric", "command"]),
    help="What the plugin adds.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to create the package in.",
)
@click.pass_obj
def plugins_new(app: AppContext, name: str, kind: str, output: Path) -> None:
    """Write an installable plugin package mtdnn-NAME that adds a working KIND named NAME.

    \b
    It holds pyproject.toml (entry point, mtdnn version range), the hook implementations, the
    component itself, a jsonnet helper, an example config with a small sample, a README and
    tests that pass as generated. Nothing is ever written over an existing folder.
    """
    from mtdnn.scaffold import new_plugin

    folder = new_plugin(name, kind, output, app.registry)
    click.echo(f"wrote {folder}")
    click.echo(f"next: pip install -e '{folder}[test]' && python -m pytest {folder}")
    click.echo(f"      mtdnn plugins check {name}")


@plugins_command.command("check")
@click.argument("name")
@click.pass_obj
def plugins_check(app: AppContext, name: str) -> None:
    """Check the installed plugin NAME (entry point, distribution or module name) strictly.

    \b
    It imports the plugin alone (with the built-ins), checks its hooks, builds the registry,
    assembles the commands, collects its jsonnet folders and dry-runs every example config in its
    package's examples/ folder. Any failure is an error (exit status 1).
    """
    from mtdnn.plugin_check import check_plugin

    ok = True
    for line, passed in check_plugin(name):
        click.echo(("ok    " if passed else "FAIL  ") + line)
        ok = ok and passed
    if not ok:
        raise SystemExit(1)
