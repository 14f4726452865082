"""The hook implementation of mtdnn-report: the `mtdnn report` command."""

from __future__ import annotations

import click

from mtdnn import hookimpl


@hookimpl
def mtdnn_register_commands(cli: click.Group) -> None:
    """Add `mtdnn report` (imported here: mtdnn loads every plugin at every start)."""
    from mtdnn_report.command import report_command

    cli.add_command(report_command)
