"""``mtdnn plot``: learning curves and per-task dev metrics of runs, in one image."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["plot_command"]


@click.command("plot")
@click.argument(
    "runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("curves.png"),
    show_default=True,
    help="The image to write (.png, .svg or .pdf).",
)
@click.option("--label", "labels", multiple=True, help="A legend name per run, in order (default: folder).")
def plot_command(runs: tuple[Path, ...], output: Path, labels: tuple[str, ...]) -> None:
    """Draw the training loss and every task's dev metrics of RUN_DIR(s), overlaid, into one image.

    Needs matplotlib (pip install 'mtdnn[plot]'). The curves come from each run's metrics.jsonl,
    one point per evaluation; the best evaluation of each run is starred.
    """
    from mtdnn.api.plot import plot_runs

    if labels and len(labels) != len(runs):
        raise click.BadParameter(f"{len(labels)} labels for {len(runs)} runs", param_hint="--label")
    panels = plot_runs(list(runs), output, labels=list(labels) or None)
    click.echo(f"wrote {output} ({len(panels)} panels: {', '.join(panels)})")
