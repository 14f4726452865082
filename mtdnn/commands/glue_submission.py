"""``mtdnn glue-submission``: the files to upload to the GLUE benchmark server."""

from __future__ import annotations

from pathlib import Path

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option

__all__ = ["glue_submission_command"]


@click.command("glue-submission")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the TSV files (CoLA.tsv, SST-2.tsv, ...).",
)  # fmt: skip
@click.option(
    "--task",
    "tasks",
    multiple=True,
    help="Only this task (repeatable; default: every GLUE task with a test file).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@plugin_option
@click.pass_obj
def glue_submission_command(
    app: AppContext,
    run_dir: Path,
    out_dir: Path,
    tasks: tuple[str, ...],
    device: str,
    plugins: tuple[str, ...],
) -> None:
    """Predict the GLUE test files of RUN_DIR and write them as GLUE submission files."""
    from mtdnn.api.glue_submission import write_glue_submission

    written = write_glue_submission(run_dir, app.registry, out_dir, tasks=list(tasks) or None, device=device)
    for task, path in written.items():
        click.echo(f"{task}: {path}")
