"""``mtdnn export --format onnx``: one ONNX graph for the encoder and the chosen heads, checked.

The graph takes the encoder's inputs (``input_ids``, ``attention_mask`` and, where the model has
them, ``token_type_ids``) with dynamic batch and sequence axes, and gives one output per task:
the head's :meth:`~mtdnn.heads.base.Head.export_scores`. What depends on the data (word
positions, groups, windows) stays outside, in the torch-free runtime
(:mod:`mtdnn.export.runtime`), as ``export.json`` describes it.

Every export is checked: the parity report compares PyTorch and onnxruntime on several input
shapes with padding, and the export fails above the tolerance. ``quantize="int8"`` adds a
dynamically quantised graph and scores it on the dev sets next to the fp32 graph and PyTorch,
since a tolerance on logits says nothing about int8.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from mtdnn.archive import load_run
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment
from mtdnn.export.graph import TaskGraph, check_inherited, check_output, check_task_names, example_inputs
from mtdnn.export.manifest import ExportedTask, ExportManifest, Tokenization
from mtdnn.export.runtime import ExportedModel
from mtdnn.heads.base import Head
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.evaluation import TaskPredictions, evaluate_task, score_predictions

__all__ = ["PARITY_SHAPES", "ExportReport", "export_onnx"]

logger = logging.getLogger(__name__)

GRAPH = "model.onnx"
INT8_GRAPH = "model.int8.onnx"
REPORT = "export-report.json"
LIMIT_BYTES = 2 * 1024**3  # protobuf's limit for a file with its weights inside
PARITY_SHAPES: tuple[tuple[int, int], ...] = ((1, 7), (3, 23), (8, 64))
"""Batch size and sequence length of the parity inputs (the export example is ``(2, 16)``)."""


@dataclass
class ExportReport:
    """What an export wrote and measured (``export-report.json``).

    Args:
        directory: The export directory.
        tasks: The exported tasks.
        parity: Per input shape (``BxT``), the largest absolute difference of each output
            between PyTorch and onnxruntime (fp32).
        tolerance: The largest difference allowed.
        dev: Per task, the dev-set metrics of PyTorch, onnxruntime fp32 and (when quantised)
            onnxruntime int8, with the examples scored.
        sizes: Size of each graph file in bytes.
        seconds: Time taken by each stage.
    """

    directory: Path
    tasks: list[str]
    parity: dict[str, dict[str, float]] = field(default_factory=dict)
    tolerance: float = 1e-4
    dev: dict[str, dict[str, Any]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def worst(self) -> float:
        """The largest difference over every output and shape."""
        return max((value for shape in self.parity.values() for value in shape.values()), default=0.0)

    def to_json(self) -> dict[str, Any]:
        """The report as written to ``export-report.json``."""
        return {
            "tasks": self.tasks,
            "parity": {"max_abs_diff": self.parity, "tolerance": self.tolerance, "worst": self.worst},
            "dev": self.dev,
            "sizes": self.sizes,
            "seconds": {name: round(value, 2) for name, value in self.seconds.items()},
        }

    def write(self) -> Path:
        """Write ``export-report.json`` into the export directory."""
        path = self.directory / REPORT
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path


def export_onnx(
    run_dir: Path,
    output: Path,
    registry: Registry,
    *,
    tasks: Sequence[str] = (),
    quantize: Literal["int8"] | None = None,
    tolerance: float = 1e-4,
    dev_limit: int | None = None,
    evaluate: bool = True,
) -> ExportReport:
    """Export a trained run to ``output``: graph, tokenizer, ``export.json`` and the report.

    Args:
        run_dir: The run directory.
        output: The export directory; it must not exist or be empty.
        registry: The component registry (with the plugins the run used).
        tasks: The tasks to export; all by default.
        quantize: ``int8``: also write a dynamically quantised graph and make it the export's.
        tolerance: Most absolute difference allowed between PyTorch and onnxruntime outputs.
        dev_limit: Score at most this many dev examples per task.
        evaluate: Score the dev sets (always with ``quantize``).

    Raises:
        ConfigurationError: The onnx extra is missing, ``output`` is not empty, a task does not
            exist or cannot be exported (the message says why), the weights exceed 2 GB, or the
            parity check fails (the report is still written).
    """
    _require_onnx()
    check_output(output)
    experiment, model = load_run(run_dir, registry)
    chosen = list(tasks) or sorted(experiment.tasks)
    exported = _describe_tasks(experiment, model, chosen, registry)
    weights = sum(parameter.numel() * parameter.element_size() for parameter in model.parameters())
    if weights >= LIMIT_BYTES:
        raise ConfigurationError(
            f"the model's weights take {weights / 1024**3:.2f} GB; an ONNX file holds < 2 GB"
        )
    output.mkdir(parents=True, exist_ok=True)
    report = ExportReport(directory=output, tasks=chosen, tolerance=tolerance)
    tokenization = Tokenization(**model.encoder.export_tokenizer(output))
    input_names = ["input_ids", "attention_mask"] + (["token_type_ids"] if tokenization.has_types else [])
    graph = TaskGraph(model.cpu().eval(), chosen, input_names)

    started = time.perf_counter()
    _export_graph(
        graph, output / GRAPH, input_names, [task.output for task in exported.values()], tokenization
    )
    report.seconds["export"] = time.perf_counter() - started
    report.sizes[GRAPH] = (output / GRAPH).stat().st_size
    report.parity = parity(
        graph,
        output / GRAPH,
        tokenization,
        input_names,
        limit=min(spec.max_length for spec in exported.values()),
    )
    if report.worst > tolerance:
        report.write()
        raise ConfigurationError(
            f"the ONNX graph differs from PyTorch by up to {report.worst:.2e} (tolerance {tolerance:g}); "
            f"see {str(output / REPORT)!r}",
            hint="a head or encoder operation may not export faithfully; --tolerance raises the limit",
        )
    graph_file = GRAPH
    if quantize == "int8":
        started = time.perf_counter()
        _quantize(output / GRAPH, output / INT8_GRAPH)
        report.seconds["quantize"] = time.perf_counter() - started
        report.sizes[INT8_GRAPH] = (output / INT8_GRAPH).stat().st_size
        graph_file = INT8_GRAPH
    manifest = ExportManifest(
        graph=graph_file,
        precision="int8" if quantize == "int8" else "fp32",
        tokenization=tokenization,
        tasks=exported,
        source={"run": str(run_dir.resolve()), "config_sha256": _config_hash(run_dir)},
        mtdnn=metadata.version("mtdnn"),
    )
    manifest_path = manifest.write(output)
    if evaluate or quantize is not None:
        started = time.perf_counter()
        report.dev = _dev_metrics(
            experiment, model, output, chosen, quantized=quantize is not None, limit=dev_limit
        )
        report.seconds["dev"] = time.perf_counter() - started
        disagreements = _disagreements(report.dev)
        if disagreements:
            manifest_path.unlink()  # not an export that can be used
            report.write()
            raise ConfigurationError(
                "the export's fp32 dev metrics differ from PyTorch's: " + "; ".join(disagreements),
                hint="the head's export_decoding does not decode as its PyTorch code does",
            )
    report.write()
    return report


METRIC_TOLERANCE = 1e-3
"""Largest difference allowed between a dev metric of the fp32 export and PyTorch's: the
predictions should be identical, and only near-ties may flip."""


def _disagreements(dev: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for task, scores in dev.items():
        for metric, value in scores.get("pytorch_fp32", {}).items():
            other = scores["onnx_fp32"].get(metric)
            if other is None or abs(other - value) > METRIC_TOLERANCE:
                found.append(f"{task} {metric} {other} against {value:.4f}")
    return found


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"exporting to ONNX needs the onnx extra ({exc.name} is not installed)",
            hint="pip install 'mtdnn[onnx]'",
        ) from exc


def _describe_tasks(
    experiment: Experiment, model: MultiTaskModel, names: Sequence[str], registry: Registry
) -> dict[str, ExportedTask]:
    """Each task's manifest entry; every task that cannot be exported is named with its reason."""
    check_task_names(experiment, names)
    described: dict[str, ExportedTask] = {}
    refused: list[str] = []
    for name in names:
        task = experiment.tasks[name]
        head = model.head(name)
        try:
            check_inherited(type(head), "export_decoding")
            decoding = head.export_decoding()
        except ConfigurationError as exc:
            refused.append(f"{name}: {exc.message}")
            continue
        described[name] = ExportedTask(
            name=name,
            type=registry.name_of(type(head), kind=Head),
            output=name,
            labels=task.labels,
            max_length=task.settings.max_length,
            decoding=decoding,
            pairs=task.settings.reader.pairs,
        )
    if refused:
        raise ConfigurationError(
            "cannot export " + "; ".join(refused),
            hint="export the other tasks with --task" if described else None,
        )
    return described


def _export_graph(
    graph: TaskGraph, path: Path, input_names: list[str], output_names: list[str], tokenization: Tokenization
) -> None:
    example = example_inputs(tokenization, input_names, 2, 16, seed=0)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    dynamic = tuple({0: batch, 1: sequence} for _ in input_names)
    chatter = io.StringIO()  # the exporter prints its progress; keep it for -v
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad(), contextlib.redirect_stdout(chatter):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph,
                example,
                str(path),
                dynamo=True,
                input_names=input_names,
                output_names=output_names,
                dynamic_shapes=(dynamic,),
                external_data=False,
                verbose=False,
            )
    finally:
        quiet.setLevel(level)
        logger.debug("torch.onnx.export said:\n%s", chatter.getvalue())


def parity(
    graph: nn.Module, path: Path, tokenization: Tokenization, input_names: Sequence[str], *, limit: int
) -> dict[str, dict[str, float]]:
    """The largest absolute difference of each output between ``graph`` and the ONNX file, per shape."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [node.name for node in session.get_outputs()]
    result: dict[str, dict[str, float]] = {}
    for seed, (batch, length) in enumerate(PARITY_SHAPES, start=1):
        length = min(length, limit)
        inputs = example_inputs(tokenization, input_names, batch, length, seed=seed)
        with torch.no_grad():
            expected = graph(*inputs)
        actual = session.run(
            None, {name: tensor.numpy() for name, tensor in zip(input_names, inputs, strict=True)}
        )
        shape = f"{batch}x{inputs[0].shape[1]}"
        result[shape] = {
            name: float((torch.from_numpy(got) - want.float()).abs().max())
            for name, got, want in zip(names, actual, expected, strict=True)
        }
    return result


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for static quantisation of CNNs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def _dev_metrics(
    experiment: Experiment,
    model: MultiTaskModel,
    directory: Path,
    tasks: Sequence[str],
    *,
    quantized: bool,
    limit: int | None,
) -> dict[str, dict[str, Any]]:
    """Per task with a readable dev file: PyTorch, onnxruntime fp32 and (int8) metrics on it."""
    runtimes = {"onnx_fp32": ExportedModel(directory, graph=GRAPH)}
    if quantized:
        runtimes["onnx_int8"] = ExportedModel(directory, graph=INT8_GRAPH)
    results: dict[str, dict[str, Any]] = {}
    for name in tasks:
        task = experiment.tasks[name]
        if task.settings.file("dev") is None or not task.path("dev").is_file():
            results[name] = {"skipped": "no dev file"}
            continue
        data = task.load("dev", experiment.encoder, limit=limit)
        scores: dict[str, Any] = {"examples": len(data.examples)}
        scores["pytorch_fp32"] = evaluate_task(model, task, data, device=torch.device("cpu"))
        for label, runtime in runtimes.items():
            predictions = runtime.predictions(name, list(data.examples))
            result = TaskPredictions([example.id for example in data.examples], predictions)
            scores[label] = score_predictions(task, data, result)
        results[name] = scores
    return results


def _config_hash(run_dir: Path) -> str:
    return hashlib.sha256(RunDirectory(run_dir).config.read_bytes()).hexdigest()
