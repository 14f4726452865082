"""`mtdnn report`: the best dev scores of runs as a results table, seeds pooled into mean ± sd."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Sequence
from pathlib import Path

import click

SEED = re.compile(r"[-_.]?seed[-_]?\d+$")


def best_scores(run: Path) -> dict[str, dict[str, float]]:
    """``task -> metric -> value`` of the run's best evaluation (the last one marked best in metrics.jsonl).

    Raises:
        click.ClickException: The folder has no metrics.jsonl or no evaluation yet.
    """
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        raise click.ClickException(f"{run} has no metrics.jsonl (is it a run directory?)")
    records = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    best = [record for record in records if record.get("best")]
    if not best:
        raise click.ClickException(f"{run} has no evaluation yet")
    return {task: dict(values) for task, values in best[-1]["dev"].items()}


def setting_of(run: Path) -> str:
    """The run's name without a trailing seed (``rte-smart-seed2`` -> ``rte-smart``)."""
    return SEED.sub("", run.name) or run.name


def report_rows(
    runs: Sequence[Path], *, metrics: str = "main", pool_seeds: bool = True, scale: float = 100.0
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table: a row per setting (or run), a column per task metric.

    Args:
        runs: Run directories.
        metrics: ``main`` (each task's first metric, its main score) or ``all``.
        pool_seeds: Put runs whose names differ only in a trailing ``seedN`` into one row, as
            mean ± sample standard deviation.
        scale: Multiplies the scores (100: percentages).
    """
    grouped: dict[str, list[dict[str, dict[str, float]]]] = {}
    for run in runs:
        try:
            scores = best_scores(run)
        except click.ClickException as exc:
            if len(runs) == 1:
                raise
            click.echo(f"skipped: {exc.message}", err=True)  # e.g. a run still in its first epoch
            continue
        grouped.setdefault(setting_of(run) if pool_seeds else run.name, []).append(scores)
    if not grouped:
        raise click.ClickException("none of the runs has an evaluation yet")
    columns: list[tuple[str, str]] = []
    for found in grouped.values():
        for scores in found:
            for task, metric_values in scores.items():
                names = list(metric_values) if metrics == "all" else list(metric_values)[:1]
                columns += [(task, name) for name in names if (task, name) not in columns]
    header = ["setting", "runs", *(f"{task} {name}" for task, name in columns)]
    rows = []
    for setting, found in grouped.items():
        cells = [setting, str(len(found))]
        for task, name in columns:
            points = [scores[task][name] * scale for scores in found if name in scores.get(task, {})]
            if not points:
                cells.append("-")
            elif len(points) == 1:
                cells.append(f"{points[0]:.1f}")
            else:
                cells.append(f"{statistics.mean(points):.1f} ± {statistics.stdev(points):.1f}")
        rows.append(cells)
    return header, rows


@click.command("report")
@click.argument(
    "runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--metrics",
    type=click.Choice(["main", "all"]),
    default="main",
    show_default=True,
    help="Each task's main score only, or every metric.",
)
@click.option("--no-pooling", is_flag=True, help="One row per run, even for runs that differ only in seed.")
@click.option(
    "--format", "form", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
def report_command(
    runs: tuple[Path, ...], metrics: str, no_pooling: bool, form: str, output: Path | None
) -> None:
    """The best dev scores of RUN_DIRs as one table (x 100), seeds pooled into mean ± sd.

    \b
    Runs whose folder names differ only in a trailing seed (rte-smart-seed1, rte-smart-seed2)
    make one row with the number of runs, the mean and the sample standard deviation:
      mtdnn report runs/*  >  results.md
    """
    header, rows = report_rows(runs, metrics=metrics, pool_seeds=not no_pooling)
    if form == "csv":
        text = "\n".join(",".join(cells) for cells in [header, *rows]) + "\n"
    else:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        text = "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows]) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output} ({len(rows)} rows)", err=True)
