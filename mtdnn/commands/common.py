"""Helpers shared by the click commands: options and output formatting."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from mtdnn.config import parse_tla_pairs

__all__ = ["check_output_file", "format_table", "plugin_option", "tla_options", "writing"]

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
    """Render ``task -> metric -> value`` as aligned text: main scores as columns, per-type scores as rows.

    A task's per-type scores (seqeval's ``f1_Disease``, ``precision_Disease``, ...) would make one
    line of dozens of columns; they get a table of their own per task, one row per type, under
    the table of the main scores.
    """
    split = {task: split_per_type(scores) for task, scores in results.items()}
    metrics = sorted({name for main, _ in split.values() for name in main})
    rows = [[task, *(_cell(main.get(name)) for name in metrics)] for task, (main, _) in split.items()]
    parts = [text_table(["task", *metrics], rows)]
    for task, (_, per_type) in split.items():
        if per_type:
            keys = sorted({key for scores in per_type.values() for key in scores})
            type_rows = [[kind, *(_cell(found.get(key)) for key in keys)] for kind, found in per_type.items()]
            parts.append(f"{task}, per type:\n" + text_table(["type", *keys], type_rows))
    return "\n\n".join(parts)


def split_per_type(
    scores: Mapping[str, float | None],
) -> tuple[dict[str, float | None], dict[str, dict[str, float | None]]]:
    """Split a task's scores into its main ones and ``type -> metric -> value``.

    ``KEY_TYPE`` is a per-type score when ``KEY`` is itself a score of the task and the same
    ``TYPE`` comes with at least two such keys (``f1_Disease`` and ``precision_Disease`` beside
    ``f1`` and ``precision``), so a lone ``f1_macro`` stays a main score.
    """
    candidates: dict[str, dict[str, float | None]] = {}
    for name, value in scores.items():
        for key in scores:
            if name.startswith(key + "_") and name != key:
                candidates.setdefault(name[len(key) + 1 :], {})[key] = value
                break
    per_type = {kind: found for kind, found in candidates.items() if len(found) >= 2}
    taken = {f"{key}_{kind}" for kind, found in per_type.items() for key in found}
    return {name: value for name, value in scores.items() if name not in taken}, per_type


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


def check_output_file(path: Path | None, option: str) -> None:
    """Refuse an output file that cannot be written, before any work is done.

    Raises:
        click.BadParameter: ``path`` is a folder, its folder does not exist, or that folder
            cannot be written to.
    """
    if path is None:
        return
    folder = path.parent
    if path.is_dir():
        raise click.BadParameter(f"{str(path)!r} is a folder; give a file name", param_hint=option)
    if not folder.is_dir():
        raise click.BadParameter(f"the folder {str(folder)!r} does not exist", param_hint=option)
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise click.BadParameter(f"{str(path)!r} cannot be written (permissions)", param_hint=option)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[TextIO]:
    """A text stream that becomes ``path`` only when the block succeeds: no half-written file.

    The text goes to a temporary file beside ``path``, renamed over it at the end; on an error
    (a failed prediction, a full disk) the temporary file is removed and ``path`` is untouched.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
