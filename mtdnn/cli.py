"""The ``mtdnn`` command line: a click group assembled from the plugin manager."""

from __future__ import annotations

import errno
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import click
import pluggy

from mtdnn.errors import MtdnnError
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.hooks.manager import TRACE_ENV, call_leniently
from mtdnn.registry import Registry

__all__ = ["AppContext", "MtdnnGroup", "main", "make_cli"]


class AppContext:
    """What every command receives as ``ctx.obj``: the plugin manager and a lazily built registry."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        """The component registry (built on first use)."""
        if self._registry is None:
            self._registry = build_registry(self.pm)
        return self._registry


class MtdnnGroup(click.Group):
    """A click group whose command names cannot be silently replaced and whose errors are readable."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Add a command; a name that is already taken is an error."""
        name = name or cmd.name
        if name is not None and name in self.commands:
            raise MtdnnError(
                f"the command name {name!r} is already taken by {_origin(self.commands[name])}; "
                f"cannot add {_origin(cmd)}"
            )
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; errors become ``Error: ...`` and exit status 1.

        mtdnn's own errors (a bad config, a malformed file) and the environment's (a missing or
        read-only path, a full disk) are the user's to fix: one line, with the traceback only
        under ``-v``. Anything else is a bug: its traceback is shown, with a line saying so.
        """
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except MtdnnError as exc:
            _traceback_if_verbose(ctx)
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:
            _traceback_if_verbose(ctx)
            raise click.ClickException(_os_message(exc)) from exc
        except Exception:
            traceback.print_exc()
            click.echo(
                "Error: an unexpected error (a bug in mtdnn or a plugin); please report it with the "
                "traceback above (-v logs more detail)",
                err=True,
            )
            ctx.exit(1)


def _traceback_if_verbose(ctx: click.Context) -> None:
    if ctx.params.get("verbose"):
        traceback.print_exc()


def _os_message(exc: OSError) -> str:
    """One line for an error of the file system: what, and the path."""
    what = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what = "no space left on the device"
    paths = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{what}: {' -> '.join(paths)}" if paths else f"{what} ({exc})"


def _origin(command: click.Command) -> str:
    """Where a command is defined: ``module.function`` of its callback."""
    callback = command.callback
    if callback is None:
        return repr(command)
    return f"{callback.__module__}.{callback.__qualname__}"


def make_cli(pm: pluggy.PluginManager) -> click.Group:
    """Build the root group and let built-ins and plugins add their commands."""

    @click.group(cls=MtdnnGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--plugin",
        "plugins",
        multiple=True,
        metavar="MODULE",
        help="Import MODULE and register it as a plugin (repeatable).",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log progress details (INFO level).")
    @click.version_option(package_name="mtdnn")
    @click.pass_context
    def cli(ctx: click.Context, plugins: tuple[str, ...], verbose: bool) -> None:
        """Multi-task deep neural networks for natural language understanding."""
        configure_logging(verbose=verbose)
        ctx.obj = AppContext(pm)

    def added_commands() -> Callable[[], None]:
        before = set(cli.commands)

        def remove() -> None:
            for name in set(cli.commands) - before:
                del cli.commands[name]

        return remove

    # an installed plugin whose commands fail (a name clash, an exception) is left out
    call_leniently(pm, "mtdnn_register_commands", "adding its commands", added_commands, cli=cli)
    return cli


def plugin_modules(argv: Sequence[str]) -> list[str]:
    """The ``--plugin MODULE`` values in ``argv`` (they must be loaded before the CLI is built)."""
    found = []
    for index, argument in enumerate(argv):
        if argument == "--plugin" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif argument.startswith("--plugin="):
            found.append(argument.split("=", 1)[1])
    return found


def configure_logging(*, verbose: bool) -> None:
    """Log to standard error: INFO with ``-v``, else WARNING; hook traces when ``MTDNN_TRACE_HOOKS=1``."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.INFO if verbose else logging.WARNING)
    if os.environ.get(TRACE_ENV) == "1":
        logging.getLogger("mtdnn.hooks.manager").setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``mtdnn`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep our own bars readable
    # Idle OpenMP threads sleep instead of spinning, so two jobs on one machine do not fight for
    # the cores (bench/bench_threads.py: 1.9x sooner for two at once, a lone job unchanged). It
    # must be set before torch starts its thread pool, which no command has done yet here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    configure_logging(verbose=bool({"-v", "--verbose"} & set(args)))
    try:
        pm = get_plugin_manager(plugins=plugin_modules(args))
        cli = make_cli(pm)
    except MtdnnError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from exc
    cli.main(args, prog_name="mtdnn")
