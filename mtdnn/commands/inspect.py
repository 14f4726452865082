"""``mtdnn registry list|show``: what is registered."""

from __future__ import annotations

import difflib
import inspect
import json
import re
import textwrap

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option

__all__ = ["registry_group"]


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


# what the program gives components at run time (never config keys), by kind
RUNTIME = {"head": ("input_dim", "num_labels", "labels", "task", "encoder"), "encoder": ("corpus",)}


@registry_group.command("show")
@click.argument("name")
@click.option("--kind", help="The kind, where NAME is registered under several.")
@plugin_option
@click.pass_obj
def registry_show(app: AppContext, name: str, kind: str | None, plugins: tuple[str, ...]) -> None:
    """Show the component NAME: its class, what it does, and its config keys with types and defaults."""
    from mtdnn.config import describe_parameters

    registry = app.registry
    found = [
        (kind_name, registry.resolve(base, name))
        for kind_name, base in registry.kinds().items()
        if (kind is None or kind_name == kind) and name in registry.names(base)
    ]
    if not found:
        every = sorted({n for base in registry.kinds().values() for n in registry.names(base)})
        close = difflib.get_close_matches(name, every, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "; see mtdnn registry list"
        raise click.ClickException(f"no component named {name!r}{' of kind ' + kind if kind else ''}{hint}")
    for number, (kind_name, cls) in enumerate(found):
        if number:
            click.echo()
        doc = inspect.cleandoc(cls.__doc__ or "").replace("``", "`")
        click.echo(f"{kind_name} {name!r}: {cls.__module__}.{cls.__qualname__}")
        if doc:
            click.echo(
                textwrap.fill(
                    doc.split("\n\n")[0].replace("\n", " "), 100, initial_indent="  ", subsequent_indent="  "
                )
            )
        meanings = _argument_docs(doc)
        runtime = {*RUNTIME.get(kind_name, ()), "registry"}
        given = []
        click.echo(
            "\nconfig keys:"
            if any(k not in runtime for k, _, _ in describe_parameters(cls))
            else "\nno config keys"
        )
        for key, type_name, default in describe_parameters(cls):
            if key in runtime:
                given.append(key)
                continue
            click.echo(f"  {key}: {type_name}" + (" (required)" if default is None else f" = {default}"))
            if meanings.get(key):
                click.echo(
                    textwrap.fill(meanings[key], 100, initial_indent=" " * 6, subsequent_indent=" " * 6)
                )
        if given:
            click.echo(f"\nsupplied at run time: {', '.join(given)}")


def _argument_docs(doc: str) -> dict[str, str]:
    """``name: description`` of a Google-style ``Args:`` section, continuation lines joined."""
    found: dict[str, str] = {}
    lines = doc.split("Args:", 1)[1].splitlines() if "Args:" in doc else []
    current = None
    for line in lines:
        if line.strip() and not line.startswith(" "):
            break  # the next section
        match = re.match(r"^\s{4}(\w+)(?: \(.*?\))?:\s*(.*)$", line)
        if match:
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif current and line.startswith(" " * 8) and line.strip():
            found[current] += " " + line.strip()
    return found
