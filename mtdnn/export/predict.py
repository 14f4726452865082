"""``mtdnn predict EXPORT_DIR``: raw inputs to JSON lines with onnxruntime alone (no PyTorch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from mtdnn.errors import ConfigurationError, DataError
from mtdnn.export.runtime import ExportedModel
from mtdnn.readers.raw import read_raw_examples

__all__ = ["predict_export_file", "providers_for"]


def providers_for(device: str) -> list[str]:
    """onnxruntime execution providers for a ``--device``: ``cpu``, ``cuda`` or ``auto`` (CUDA if present).

    Raises:
        ConfigurationError: onnxruntime is not installed, or the device has no provider here.
    """
    try:
        import onnxruntime
    except ImportError as exc:
        raise ConfigurationError(
            "predicting with an export needs onnxruntime", hint="pip install 'mtdnn[onnx]'"
        ) from exc

    available = onnxruntime.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "auto":
        return [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]
    if device.split(":")[0] == "cuda" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    raise ConfigurationError(
        f"an export cannot run on {device!r} here (onnxruntime offers {', '.join(available)})",
        hint="use --device cpu, or install onnxruntime-gpu for cuda",
    )


def predict_export_file(
    directory: Path,
    *,
    task: str,
    input_path: Path,
    output: TextIO,
    device: str = "auto",
    words: str = "blank:en",
    batch_size: int = 32,
) -> int:
    """Write one JSON line per input of ``input_path`` (TSV or JSONL, as for a run directory).

    The lines are those ``mtdnn predict`` writes with the run directory the export came from.

    Returns:
        The number of predictions written.

    Raises:
        ConfigurationError: The export has no such task, or is not readable.
        DataError: The input is malformed or empty.
    """
    model = ExportedModel(directory, providers=providers_for(device))
    spec = model.task(task)  # before reading the inputs
    examples = list(read_raw_examples(input_path, pairs=spec.pairs))
    if not examples:
        raise DataError("no inputs", file=str(input_path))
    records = model.predict(task, examples, words=words, batch_size=batch_size)
    output.writelines(json.dumps(record) + "\n" for record in records)
    return len(records)
