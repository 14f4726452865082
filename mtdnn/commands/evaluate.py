"""``mtdnn evaluate``: score a trained run."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import check_output_file, format_table, plugin_option, writing

__all__ = ["evaluate_command"]


@click.command("evaluate")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--task", "tasks", multiple=True, help="Evaluate only this task (repeatable; default: all).")
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A labelled file to score instead of the configured one (needs one --task).",
)
@click.option(
    "--split",
    type=click.Choice(["dev", "test"]),
    default="dev",
    show_default=True,
    help="Which configured file to score.",
)
@click.option(
    "--output-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the metrics as JSON to this file.",
)
@click.option(
    "--predictions",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write each task's predictions into this folder: TASK.conll (word gold predicted, for "
    "conlleval) for sequence labelling, TASK.json (SQuAD format) for QA, TASK.jsonl otherwise.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@plugin_option
@click.pass_obj
def evaluate_command(
    app: AppContext,
    run_dir: Path,
    tasks: tuple[str, ...],
    data: Path | None,
    split: str,
    output_json: Path | None,
    predictions: Path | None,
    device: str,
    plugins: tuple[str, ...],
) -> None:
    """Evaluate the model saved in RUN_DIR and print a table of metrics per task."""
    from mtdnn.api.evaluate import evaluate_run

    check_output_file(output_json, "--output-json")
    results = evaluate_run(
        run_dir,
        app.registry,
        tasks=list(tasks) or None,
        data=data,
        split=split,
        device=device,
        predictions=predictions,
    )
    click.echo(format_table(results))
    if output_json is not None:
        with writing(output_json) as stream:
            stream.write(json.dumps(results, indent=2) + "\n")
