"""Hook specifications: the API through which built-ins and plugins extend mtdnn.

Every hook here is called by mtdnn, never by plugins. Implement one by decorating a
function of the same name with :data:`mtdnn.hookimpl` in a module named by an entry point of
group ``mtdnn`` (or passed with ``mtdnn --plugin MODULE``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mtdnn.hooks.markers import hookspec

if TYPE_CHECKING:
    import click

    from mtdnn.registry import Registry


@hookspec
def mtdnn_register(registry: Registry) -> None:
    """Add component kinds and components to the registry.

    Called once per :func:`mtdnn.hooks.build_registry` call. The core kinds (encoder, head,
    loss, sampler, reader, metric, optimizer, scheduler, callback, pretrained, objective) are
    added first, by the built-in plugin ``mtdnn.builtin.kinds`` through this very hook (``tryfirst``).
    Built-in components register through this very hook, before the implementations of plugins
    (except those marked ``tryfirst=True``), so a plugin can override a built-in name explicitly
    with ``replace=True``. A plugin that adds a kind of its own should mark that implementation
    ``tryfirst=True`` so the kind exists before other plugins use it, and keep any replacement
    of a built-in in an implementation without ``tryfirst``.

    Args:
        registry: The registry to add to, with ``registry.add(Kind, "name", Class)``. A name
            already taken is an error unless ``replace=True`` is passed.

    Returns:
        Nothing; results are ignored.
    """


@hookspec
def mtdnn_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``mtdnn`` command-line interface.

    Called once when the CLI is assembled by :func:`mtdnn.cli.make_cli`, before arguments are
    parsed. A command name that is already taken is an error.

    Args:
        cli: The root click group; call ``cli.add_command(command)``.

    Returns:
        Nothing; results are ignored.
    """


@hookspec
def mtdnn_jsonnet_paths() -> list[str | Path]:
    """Directories to add to the jsonnet import path (for shipped ``.libsonnet`` files).

    Called every time a config is evaluated. Not ``firstresult``: the lists of all plugins are
    concatenated and put on the import path after the checkout's ``configs/lib`` (jsonnet gives
    later directories priority, so a plugin's file shadows a ``configs/lib`` file of the same
    name). The built-in library (``glue.libsonnet``) is contributed through this hook too.

    Returns:
        Existing directories; a missing one is reported as a plugin error.
    """
    raise NotImplementedError
