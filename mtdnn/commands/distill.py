"""``mtdnn distill``: soft targets from trained teachers, and a student trained on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option
from mtdnn.commands.train import train_config, training_options

__all__ = ["distill_group"]

STRATEGY_HELP = (
    "The distillation objective to wrap the config's objective in, when it has none: "
    "bam, mtdnn_kd, hinton, mse_logits."
)


class _DistillGroup(click.Group):
    """A group whose first argument may also be a CONFIG: then it runs the one-shot form."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("distill", cls=_DistillGroup)
def distill_group() -> None:
    """Knowledge distillation: soft targets from trained teacher runs, and a student trained on them.

    \b
    mtdnn distill targets RUN [RUN ...] -o TARGETS        soft targets from teacher runs
    mtdnn distill train CONFIG -s RUN_DIR --targets TARGETS   train a student on them
    mtdnn distill CONFIG -s RUN_DIR --teacher TASK=RUN ...   both in one go
    mtdnn distill inspect TARGETS                          what a targets file holds
    """


@distill_group.command("targets")
@click.argument(
    "runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The targets file to write.",
)
@click.option(
    "--task", "tasks", multiple=True, help="Only this task (repeatable; default: every task of the runs)."
)
@click.option(
    "--split", default="train", show_default=True, help="The split of the teachers' configs to score."
)
@click.option(
    "--combine",
    type=click.Choice(["probs", "logits"]),
    default="probs",
    show_default=True,
    help="Average the teachers' probabilities or their logits.",
)
@click.option(
    "--device", default="auto", show_default=True, help="Where the teachers run (auto, cpu, cuda, ...)."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Score the first N rows of each file; on the train split this replaces the teachers' own "
    "train_limit (a transfer set larger than the teachers' labelled data).",
)
@plugin_option
@click.pass_obj
def targets_command(
    app: AppContext,
    runs: tuple[Path, ...],
    output: Path,
    tasks: tuple[str, ...],
    split: str,
    combine: str,
    device: str,
    limit: int | None,
    plugins: tuple[str, ...],
) -> None:
    """Score the SPLIT file of each teacher RUN's tasks and write their averaged soft targets.

    A task's teachers are the runs that train a task of that name (single-task or multi-task
    runs); they must all score the same file with the same labels.
    """
    from mtdnn.api.distill import compute_targets
    from mtdnn.distill.targets import Combine

    how: Combine = "logits" if combine == "logits" else "probs"
    targets = compute_targets(
        list(runs),
        app.registry,
        tasks=list(tasks) or None,
        split=split,
        combine=how,
        device=device,
        limit=limit,
    )
    targets.save(output)
    for name, task in targets.tasks.items():
        click.echo(
            f"{name}: {len(task.ids):,} rows from {len(task.teachers)} teacher(s), combined as {combine}"
        )
    click.echo(f"soft targets written to {output}")


@distill_group.command("train")
@training_options
@click.option(
    "--targets",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The soft-targets file (from `mtdnn distill targets`).",
)
@click.option("--strategy", default="bam", show_default=True, help=STRATEGY_HELP)
def train_command(app: AppContext, targets: Path, strategy: str, **options: Any) -> None:
    """Train the student CONFIG into RUN_DIR on the soft targets TARGETS; every `train` option applies."""
    from mtdnn.api.distill import with_targets

    train_config(
        app,
        transform=lambda config: with_targets(config, targets, app.registry, strategy=strategy),
        **options,
    )


@distill_group.command("run", hidden=True)
@training_options
@click.option(
    "--teacher",
    "teachers",
    multiple=True,
    required=True,
    metavar="TASK=RUN",
    help="A teacher run for a task (repeatable; several for one task are averaged).",
)
@click.option("--strategy", default="bam", show_default=True, help=STRATEGY_HELP)
@click.option(
    "--combine",
    type=click.Choice(["probs", "logits"]),
    default="probs",
    show_default=True,
    help="Average probabilities or logits.",
)
def run_command(
    app: AppContext, teachers: tuple[str, ...], strategy: str, combine: str, **options: Any
) -> None:
    """Compute the teachers' soft targets (kept in RUN_DIR) and train the student CONFIG on them."""
    from mtdnn.api.distill import parse_teachers, targets_for_teachers, with_targets
    from mtdnn.distill.targets import Combine
    from mtdnn.rundir import RunDirectory

    cache = RunDirectory(options["run_dir"]).soft_targets
    how: Combine = "logits" if combine == "logits" else "probs"
    targets_for_teachers(parse_teachers(teachers), app.registry, cache, combine=how)
    click.echo(f"soft targets in {cache}")
    train_config(
        app, transform=lambda config: with_targets(config, cache, app.registry, strategy=strategy), **options
    )


@distill_group.command("inspect")
@click.argument("targets", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def inspect_command(targets: Path) -> None:
    """Show what the soft-targets file TARGETS holds: tasks, rows, teachers, entropy."""
    from mtdnn.api.distill import describe_targets
    from mtdnn.distill import SoftTargets

    for line in describe_targets(SoftTargets.load(targets)):
        click.echo(line)
