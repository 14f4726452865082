"""What the command line shows when a command fails: one line for the user's errors, a traceback for bugs."""

from __future__ import annotations

import errno

import click
import pytest
from click.testing import CliRunner

from mtdnn.cli import make_cli
from mtdnn.errors import DataError
from mtdnn.hooks import get_plugin_manager


def _cli_raising(error: BaseException) -> click.Group:
    cli = make_cli(get_plugin_manager(autoload=False))

    def fail() -> None:
        raise error

    cli.add_command(click.Command("fail", callback=fail))
    return cli


DENIED = PermissionError(errno.EACCES, "Permission denied", "runs/x/config.json")
FULL = OSError(errno.ENOSPC, "No space left on device", "runs/x/model")


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (DataError("not UTF-8", file="data/train.tsv", line=3), "Error: data/train.tsv:3: not UTF-8"),
        (DENIED, "Error: Permission denied: runs/x/config.json"),
        (FULL, "Error: no space left on the device: runs/x/model"),
    ],
)
def test_the_users_errors_are_one_line_and_a_traceback_only_with_v(error: Exception, line: str) -> None:
    quiet = CliRunner().invoke(_cli_raising(error), ["fail"])
    assert quiet.exit_code == 1
    assert quiet.output.strip() == line
    loud = CliRunner().invoke(_cli_raising(error), ["-v", "fail"])
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.output
    assert loud.output.strip().endswith(line)


def test_a_bug_shows_its_traceback_and_says_it_is_one() -> None:
    result = CliRunner().invoke(_cli_raising(KeyError("oops")), ["fail"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.output and "KeyError: 'oops'" in result.output
    assert "an unexpected error (a bug in mtdnn or a plugin); please report it" in result.output
