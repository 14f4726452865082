"""``mtdnn export``: a trained run as an ONNX graph or as Hugging Face folders, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import click

from mtdnn.cli import AppContext
from mtdnn.commands.common import plugin_option

__all__ = ["export_command"]


@click.command("export")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The export directory (new or empty).",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["onnx", "hf"]),
    default="onnx",
    show_default=True,
    help="onnx: one graph for the encoder and the heads, run by onnxruntime without PyTorch. "
    "hf: a Hugging Face model folder per task (OUTPUT/TASK) that transformers.pipeline loads.",
)
@click.option("--task", "tasks", multiple=True, help="A task to export (repeat it); all by default.")
@click.option(
    "--quantize",
    type=click.Choice(["int8"]),
    help="Also write a dynamically quantised int8 graph and make it the export's; the report "
    "gives its dev metric next to fp32's.",
)
@click.option(
    "--tolerance",
    type=float,
    default=1e-4,
    show_default=True,
    help="Most absolute difference allowed between PyTorch's and onnxruntime's outputs.",
)
@click.option("--dev-limit", type=int, help="Score at most this many dev examples per task.")
@click.option("--no-eval", is_flag=True, help="Skip the dev-set scores (not with --quantize).")
@plugin_option
@click.pass_obj
def export_command(
    app: AppContext,
    run_dir: Path,
    output: Path,
    export_format: str,
    tasks: tuple[str, ...],
    quantize: str | None,
    tolerance: float,
    dev_limit: int | None,
    no_eval: bool,
    plugins: tuple[str, ...],
) -> None:
    """Export RUN_DIR's model for deployment into OUTPUT, checked against PyTorch.

    onnx: the graph, the tokenizer, export.json (how to decode each task's outputs) and
    export-report.json (the largest PyTorch/onnxruntime difference on several input shapes, and
    dev-set metrics). `mtdnn predict OUTPUT INPUT --task T` then runs it without PyTorch. Needs
    the onnx extra: pip install 'mtdnn[onnx]'.

    hf: OUTPUT/TASK for each task whose head has a standard Hugging Face counterpart
    (classification, multilabel and regression heads: ...ForSequenceClassification; tagging:
    ...ForTokenClassification; span: ...ForQuestionAnswering), checked on rows of the task's dev
    file; other heads are refused with the reason.
    """
    if export_format == "hf":
        onnx_only = {"--quantize": quantize, "--dev-limit": dev_limit, "--no-eval": no_eval or None}
        for option, given in onnx_only.items():
            if given is not None:
                raise click.UsageError(f"{option} applies to --format onnx only")
        _export_hf(app, run_dir, output, tasks, tolerance)
        return
    from mtdnn.export.onnx import REPORT, export_onnx

    if dev_limit is not None and dev_limit < 1:
        raise click.BadParameter("must be at least 1", param_hint="--dev-limit")
    report = export_onnx(
        run_dir,
        output,
        app.registry,
        tasks=tasks,
        quantize="int8" if quantize == "int8" else None,
        tolerance=tolerance,
        dev_limit=dev_limit,
        evaluate=not no_eval,
    )
    click.echo(f"exported {', '.join(report.tasks)} to {output}")
    for name, size in report.sizes.items():
        click.echo(f"  {name}: {size / 1e6:.1f} MB")
    click.echo(
        f"  parity: largest difference {report.worst:.2e} over {len(report.parity)} input shapes "
        f"(tolerance {tolerance:g})"
    )
    for task, scores in report.dev.items():
        if "skipped" in scores:
            click.echo(f"  {task} dev: skipped ({scores['skipped']})")
            continue
        cells = [
            f"{runtime} " + ", ".join(f"{metric} {value:.4f}" for metric, value in scores[runtime].items())
            for runtime in ("pytorch_fp32", "onnx_fp32", "onnx_int8")
            if runtime in scores
        ]
        click.echo(f"  {task} dev ({scores['examples']} examples): " + "; ".join(cells))
    click.echo(f"  report: {output / REPORT}")


def _export_hf(
    app: AppContext, run_dir: Path, output: Path, tasks: tuple[str, ...], tolerance: float
) -> None:
    from mtdnn.export.hf import REPORT, export_hf

    report = export_hf(run_dir, output, app.registry, tasks=tasks, tolerance=tolerance)
    for task, model in report.models.items():
        pipeline = report.pipelines[task]
        loads = f"pipeline('{pipeline}', model='{output / task}')" if pipeline else f"{model}.from_pretrained"
        click.echo(f"exported {task} to {output / task}: {model}; load it with {loads}")
        click.echo(f"  parity: largest difference {report.parity[task]:.2e} on {report.rows[task]}")
    click.echo(f"  report: {output / REPORT}")
