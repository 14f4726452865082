"""The built-in CLI commands, added through the same hook a plugin uses.

A command module imports the API it runs (and torch with it) inside its callback, never at the
top: every command is added before the arguments are parsed, so a top-level import would make
``mtdnn --help`` pay for torch and transformers (seconds).
"""

from __future__ import annotations

import click

from mtdnn.hooks.markers import hookimpl

__all__ = ["mtdnn_register_commands"]


@hookimpl
def mtdnn_register_commands(cli: click.Group) -> None:
    """Add the built-in commands (train, evaluate, predict, distill, plot, plugins, registry, ...)."""
    from mtdnn.commands.cross_validate import cross_validate_command
    from mtdnn.commands.distill import distill_group
    from mtdnn.commands.evaluate import evaluate_command
    from mtdnn.commands.export import export_command
    from mtdnn.commands.glue_submission import glue_submission_command
    from mtdnn.commands.inspect import registry_group
    from mtdnn.commands.plot import plot_command
    from mtdnn.commands.plugins import plugins_command
    from mtdnn.commands.predict import predict_command
    from mtdnn.commands.serve import serve_command
    from mtdnn.commands.train import pretrain_command, train_command

    commands = (
        train_command,
        pretrain_command,
        cross_validate_command,
        evaluate_command,
        predict_command,
        export_command,
        serve_command,
        glue_submission_command,
        distill_group,
        plot_command,
        plugins_command,
        registry_group,
    )
    for command in commands:
        cli.add_command(command)
