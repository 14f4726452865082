"""Helpers shared by the click commands: options and output formatting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from mtdnn.config import parse_tla_pairs

__all__ = ["format_table", "plugin_option", "tla_options"]

F = TypeVar("F", bound=Callable[..., Any])


def plugin_option(function: F) -> F:
    """``--plugin MODULE`` on a subcommand (read before the CLI is built, like the global option)."""
    return click.option(
        "--plugin",
        "plugins",
        multiple=True,
        metavar="MODULE",
        help="Import MODULE and register it as a plugin (repeatable; same as `mtdnn --plugin`).",
    )(function)


def tla_options(function: F) -> F:
    """The jsonnet top-level-argument options ``-A/--tla-str`` and ``--tla-code``."""
    function = click.option(
        "--tla-code",
        "tla_code",
        multiple=True,
        metavar="NAME=EXPR",
        help="Pass a jsonnet expression as top-level argument NAME, e.g. --tla-code epochs=2.",
    )(function)
    return click.option(
        "-A",
        "--tla-str",
        "tla_str",
        multiple=True,
        metavar="NAME=VALUE",
        help="Pass a string as top-level argument NAME of the config, e.g. -A encoder=all_minilm_l6_v2.",
    )(function)


def parse_tlas(tla_str: tuple[str, ...], tla_code: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Parse the TLA options into two name->text maps."""
    return parse_tla_pairs(tla_str, option="--tla-str"), parse_tla_pairs(tla_code, option="--tla-code")


def format_table(results: Mapping[str, Mapping[str, float | None]]) -> str:
    """Render ``task -> metric -> value`` as an aligned text table."""
    metrics = sorted({name for scores in results.values() for name in scores})
    rows = [[task, *(_cell(scores.get(name)) for name in metrics)] for task, scores in results.items()]
    return text_table(["task", *metrics], rows)


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns aligned by their widest cell, with a dashed line under the header."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
