"""``mtdnn plot``: learning curves and dev metrics of runs, drawn from their ``metrics.jsonl``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mtdnn.errors import ConfigurationError
from mtdnn.rundir import RunDirectory

__all__ = ["plot_runs"]


def plot_runs(runs: Sequence[Path], output: Path, *, labels: Sequence[str] | None = None) -> list[str]:
    """Draw the runs' curves into one image and return the titles of its panels.

    Panels: the training loss, the other training values the objective reported (adversarial
    and distillation terms) if any, and one per task with each of its dev metrics; the x axis is
    the optimizer step of each evaluation. Each run has one colour in every panel, each metric
    one line style; the best evaluation of each run is marked with a star.

    Args:
        runs: Run directories (each with a ``metrics.jsonl``).
        output: The image file (``.png``, ``.svg``, ``.pdf``: by suffix).
        labels: A legend name per run (default: the run directories' names).

    Raises:
        ConfigurationError: matplotlib is missing, or a run has no evaluations.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigurationError("mtdnn plot needs matplotlib", hint="pip install 'mtdnn[plot]'") from exc
    names = list(labels) if labels is not None else _names(runs)
    records = {}
    for run, name in zip(runs, names, strict=True):
        found = RunDirectory(run).read_records()
        if not found:
            raise ConfigurationError(f"{str(run)!r} has no evaluations in metrics.jsonl yet")
        records[name] = found
    tasks = sorted({task for found in records.values() for record in found for task in record.get("dev", {})})
    extra = sorted(
        {key for found in records.values() for r in found for key in r.get("train", {}) if key != "loss"}
    )
    panels = ["training loss", *(["training values"] if extra else []), *(f"dev: {task}" for task in tasks)]
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.8 * rows), squeeze=False)
    axes = dict(zip(panels, grid.flat, strict=False))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    for number, (name, found) in enumerate(records.items()):
        colour = colours[number % len(colours)]
        steps = [record["step"] for record in found]
        best = [index for index, record in enumerate(found) if record.get("best")]
        losses = [r.get("train", {}).get("loss") for r in found]
        _line(axes["training loss"], steps, losses, colour, "-", name)
        for style, key in enumerate(extra):
            values = [r.get("train", {}).get(key) for r in found]
            _line(axes["training values"], steps, values, colour, styles[style % 4], f"{name}: {key}")
        for task in tasks:
            metrics = sorted({m for r in found for m in r.get("dev", {}).get(task, {})})
            for style, metric in enumerate(metrics):
                values = [r.get("dev", {}).get(task, {}).get(metric) for r in found]
                axis = axes[f"dev: {task}"]
                _line(axis, steps, values, colour, styles[style % 4], f"{name}: {metric}")
                if best and style == 0 and values[best[-1]] is not None:
                    axis.plot(steps[best[-1]], values[best[-1]], "*", color=colour, markersize=12)
    trained = [r.get("train", {}) for found in records.values() for r in found]
    terms = [value for values in trained for key, value in values.items() if key in extra]
    if terms and all(value > 0 for value in terms):
        axes["training values"].set_yscale("log")  # the terms differ by orders of magnitude
    for title, axis in axes.items():
        axis.set_title(title)
        axis.set_xlabel("optimizer step")
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    for axis in list(grid.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return panels


def _line(axis: Any, steps: list[int], values: list[Any], colour: str, style: str, label: str) -> None:
    points = [(step, value) for step, value in zip(steps, values, strict=True) if value is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        axis.plot(xs, ys, style, color=colour, marker="o", markersize=3, label=label)


def _names(runs: Sequence[Path]) -> list[str]:
    """The runs' folder names, or their paths where two share a name."""
    names = [run.name for run in runs]
    return [str(run) if names.count(run.name) > 1 else run.name for run in runs]
