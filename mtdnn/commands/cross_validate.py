"""``mtdnn cross-validate``: train a config once per fold and report the mean and spread."""

from __future__ import annotations

from pathlib import Path

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import format_table, parse_tlas, plugin_option, tla_options
from mtdnn.hooks.manager import MtdnnPluginManager

__all__ = ["cross_validate_command"]


@click.command("cross-validate")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-s",
    "--serialization-dir",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder for the fold runs (RUN_DIR/fold-NAME) and cross_validation.json.",
)
@click.option("--folds", required=True, help="The folds: a range such as 1-10, or names a,b,c.")
@click.option(
    "--fold-argument",
    default="fold",
    show_default=True,
    help="The config's top-level argument that receives each fold's name.",
)
@click.option(
    "--select",
    type=click.Choice(["last", "best"]),
    default="last",
    show_default=True,
    help="Report each fold's scores after the last epoch, or those of its best epoch.",
)
@tla_options
@plugin_option
@click.pass_obj
def cross_validate_command(
    app: AppContext,
    config: Path,
    run_dir: Path,
    folds: str,
    fold_argument: str,
    select: str,
    tla_str: tuple[str, ...],
    tla_code: tuple[str, ...],
    plugins: tuple[str, ...],
) -> None:
    """Train CONFIG once per fold (its FOLD_ARGUMENT set to the fold) and print mean ± std of the scores.

    Folds that finished before are read back, so a stopped cross-validation resumes.
    """
    from mtdnn.api.cross_validate import cross_validate, parse_folds

    strings, codes = parse_tlas(tla_str, tla_code)
    assert isinstance(app.pm, MtdnnPluginManager)
    result = cross_validate(
        config,
        run_dir,
        app.pm,
        app.registry,
        folds=parse_folds(folds),
        fold_argument=fold_argument,
        select=select,  # type: ignore[arg-type]
        tla_str=strings,
        tla_code=codes,
    )
    for fold, scores in result.folds.items():
        click.echo(f"fold {fold}:")
        click.echo(format_table(scores))
    click.echo(f"mean over {len(result.folds)} folds:")
    click.echo(format_table(result.mean))
    click.echo("standard deviation:")
    click.echo(format_table(result.std))
    click.echo(f"written to {run_dir / 'cross_validation.json'}")
