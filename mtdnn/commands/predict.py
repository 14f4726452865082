"""``mtdnn predict``: label raw text with a trained run."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import check_output_file, plugin_option, writing
from mtdnn.errors import ConfigurationError

__all__ = ["predict_command"]


@click.command("predict")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--task", required=True, help="The task whose head makes the predictions.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSONL here instead of standard output.",
)
@click.option(
    "--words",
    default="blank:en",
    show_default=True,
    help="Sequence labelling: how raw text is split into words; 'blank:LANG' (spaCy's rule-based "
    "tokenizer) or an installed spaCy pipeline such as en_core_web_sm.",
)
@click.option(
    "--input-format",
    type=click.Choice(["raw", "task"]),
    default="raw",
    show_default=True,
    help="raw: TSV or JSONL of raw texts (below); task: read INPUT with the task's own reader, as "
    "its training and dev files are read (e.g. a CSV with the task's columns; a label column may "
    "be absent).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@plugin_option
@click.pass_obj
def predict_command(
    app: AppContext,
    run_dir: Path,
    input_path: Path,
    task: str,
    output: Path | None,
    words: str,
    input_format: str,
    device: str,
    plugins: tuple[str, ...],
) -> None:
    """Predict INPUT (TSV: text or text<TAB>text; JSONL: {"text", "text_b"}) as JSON lines.

    RUN_DIR is a run directory, or an export (`mtdnn export`), which predicts with onnxruntime
    alone, without PyTorch. With --input-format task, INPUT is read by the task's reader instead
    (your own CSV, say; run directories only).

    Sequence-labelling tasks give the entities of each text with character offsets; QA tasks
    (text_a the question, text_b the context) give the answer span.
    """
    from mtdnn.export.runtime import is_export

    check_output_file(output, "--output")

    options: dict[str, Any] = {"task": task, "input_path": input_path, "device": device, "words": words}
    write: Callable[..., int]
    if is_export(run_dir):  # onnxruntime alone: neither torch nor the registry is loaded
        from mtdnn.export.predict import predict_export_file

        if input_format != "raw":
            raise ConfigurationError(
                "an export reads raw inputs only (--input-format raw)",
                hint="predict with the run directory to read a task's own file format",
            )
        write = functools.partial(predict_export_file, run_dir)
    else:
        from mtdnn.api.predict import predict_file

        write = functools.partial(predict_file, run_dir, app.registry, input_format=input_format)  # type: ignore[arg-type]
    if output is None:
        write(output=sys.stdout, **options)
        return
    with writing(output) as stream:
        count = write(output=stream, **options)
    click.echo(f"{count} predictions written to {output}", err=True)
