"""The built-in CLI commands, added through the same hook a plugin uses."""

from __future__ import annotations

import click

from mtdnn.hooks.markers import hookimpl

__all__ = ["mtdnn_register_commands"]


@hookimpl
def mtdnn_register_commands(cli: click.Group) -> None:
    """Add train, evaluate, predict, plugins and registry."""
    from mtdnn.commands.evaluate import evaluate_command
    from mtdnn.commands.inspect import plugins_command, registry_group
    from mtdnn.commands.predict import predict_command
    from mtdnn.commands.train import train_command

    for command in (train_command, evaluate_command, predict_command, plugins_command, registry_group):
        cli.add_command(command)
