"""``mtdnn train``: train an experiment config into a run directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import format_table, parse_tlas, plugin_option, tla_options
from mtdnn.hooks.manager import MtdnnPluginManager, plugin_report

__all__ = ["pretrain_command", "train_command", "train_config", "training_options"]


def training_options(function: Callable[..., None]) -> Callable[..., None]:
    """The arguments and options ``train`` and ``pretrain`` share."""
    decorators: list[Callable[[Callable[..., None]], Callable[..., None]]] = [
        click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option(
            "-s",
            "--serialization-dir",
            "run_dir",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="The run directory to write (config, model, metrics, checkpoints).",
        ),
        tla_options,
        click.option(
            "--dry-run",
            "check_only",
            is_flag=True,
            help="Build everything and run one batch per task; train nothing.",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="Continue the interrupted run in the run directory from its last checkpoint.",
        ),
        plugin_option,
        click.pass_obj,
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _command(name: str, help_text: str, *, pretraining: bool) -> click.Command:
    """A click command over :func:`_train` with the shared options."""

    @training_options
    def command(app: AppContext, **options: Any) -> None:
        train_config(app, pretraining=pretraining, **options)

    command.__doc__ = help_text
    command.__name__ = command.__qualname__ = f"{name}_command"  # as named in messages about clashes
    return click.command(name)(command)


train_command = _command(
    "train", "Train the experiment CONFIG (a jsonnet or JSON file) into RUN_DIR.", pretraining=False
)
pretrain_command = _command(
    "pretrain",
    """Masked-LM pre-training: train CONFIG, which needs an `mlm` task, and write the encoder folder.

    The encoder ends up in RUN_DIR/model/encoder in Hugging Face form: fine-tune it with
    `encoder: {type: 'hf', model: 'RUN_DIR/model/encoder'}` or start a run from it with `init_from`.
    """,
    pretraining=True,
)


def train_config(
    app: AppContext,
    *,
    config: Path,
    run_dir: Path,
    tla_str: tuple[str, ...],
    tla_code: tuple[str, ...],
    check_only: bool,
    resume: bool,
    plugins: tuple[str, ...],
    pretraining: bool = False,
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Train (or dry-run) CONFIG into RUN_DIR; ``plugins`` were loaded by the group already.

    ``transform`` changes the evaluated config first (``mtdnn distill train`` adds the targets).
    """
    from mtdnn.api.train import check_pretraining_config, dry_run, load_config, train
    from mtdnn.rundir import RunDirectory
    from mtdnn.training.distributed import DistributedContext

    strings, codes = parse_tlas(tla_str, tla_code)
    evaluated = load_config(config, app.pm, tla_str=strings, tla_code=codes)
    if transform is not None:
        evaluated = transform(evaluated)
    if pretraining:
        check_pretraining_config(evaluated, app.registry)
    if check_only:
        checked = dry_run(evaluated, app.registry)
        click.echo(json.dumps({"parameters": checked.parameters, "tasks": checked.tasks}, indent=2))
        click.echo(
            "dry run passed: everything built and one batch of each train and dev file ran through the model"
        )
        return
    report = plugin_report(app.pm) if isinstance(app.pm, MtdnnPluginManager) else {}
    result = train(evaluated, run_dir, app.registry, plugins=report, resume=resume)
    if not DistributedContext.from_env().is_main:
        return  # under torchrun, rank 0 reports
    state = result.state
    best = "n/a" if state.best_score is None else f"{state.best_score:.4f}"
    epoch = "n/a" if state.best_epoch is None else str(state.best_epoch + 1)
    if state.best_metrics:
        click.echo(f"dev metrics of the best epoch ({epoch}):")
        click.echo(format_table(state.best_metrics))
    run = RunDirectory(run_dir)
    click.echo(f"best validation score {best} at epoch {epoch}; model saved in {run.model}")
    if result.removed_checkpoints:
        click.echo(
            f"removed the checkpoints ({result.removed_checkpoints / 1e6:.0f} MB), no longer needed to "
            "resume; trainer.keep_checkpoints_at_end: true keeps them"
        )
    if pretraining:
        click.echo(f"pre-trained encoder (Hugging Face form): {run.encoder}")
