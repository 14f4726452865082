"""``mtdnn serve``: an HTTP JSON API over a run directory or an export."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["serve_command"]


@click.command("serve")
@click.argument("model", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--max-batch", default=32, show_default=True, type=click.IntRange(1), help="Most inputs per model call."
)
@click.option(
    "--max-wait-ms",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0),
    help="How long an input waits for others to join its batch.",
)
@click.option(
    "--max-chars", default=20_000, show_default=True, type=click.IntRange(1), help="Longest text accepted."
)
@click.option(
    "--max-inputs", default=256, show_default=True, type=click.IntRange(1), help="Most inputs per request."
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto, cpu, cuda or cuda:N (an export on CUDA needs onnxruntime-gpu).",
)
@click.option("--threads", type=click.IntRange(1), help="onnxruntime threads (exports); default: all cores.")
@click.option(
    "--words",
    default="blank:en",
    show_default=True,
    help="Sequence labelling: how raw text is split into words (as for mtdnn predict).",
)
def serve_command(
    model: Path,
    host: str,
    port: int,
    max_batch: int,
    max_wait_ms: float,
    max_chars: int,
    max_inputs: int,
    device: str,
    threads: int | None,
    words: str,
) -> None:
    """Serve MODEL (a run directory, or an export from `mtdnn export`) over HTTP.

    POST /predict/TASK with {"text": ...} (and "text_b" for pairs), a list of such objects or
    {"inputs": [...]}; GET /tasks; GET /health. Requests arriving together are predicted in one
    batch. An export is served by onnxruntime, without PyTorch. Needs the serve extra: pip
    install 'mtdnn[serve]'.
    """
    from mtdnn.export.server import ServerSettings, serve

    settings = ServerSettings(
        max_batch=max_batch, max_wait=max_wait_ms / 1000, max_chars=max_chars, max_inputs=max_inputs
    )
    serve(model, host=host, port=port, settings=settings, device=device, threads=threads, words=words)
