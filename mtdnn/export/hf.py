"""``mtdnn export --format hf``: one Hugging Face model folder per task, checked against PyTorch.

Each task whose head has a standard Hugging Face counterpart (:meth:`Head.export_hf
<mtdnn.heads.base.Head.export_hf>`) becomes a folder that ``AutoModelFor...`` and
``transformers.pipeline`` load: the encoder's weights, the head's layers put where the Hugging
Face class keeps its own, the label names, and the tokenizer (its ``model_max_length`` the task's
``max_length``). What the class has no place for (a multi-label threshold, the span decoding
settings) goes into ``config.json`` under ``mtdnn``.

How the head's layers map depends on where the Hugging Face class reads the sequence:

- ``...ForSequenceClassification`` of BERT-like models applies the model's pooler (a tanh layer
  on the first token) and then one linear layer. A head of one linear layer on ``pooler``
  pooling maps; so does a head with a tanh hidden layer of the model's width on ``cls`` pooling
  (the hidden layer becomes the pooler).
- RoBERTa-like models (RoBERTa, MPNet, ...) put a tanh layer and a linear one on the first
  token: a head with a hidden layer of the model's width on ``cls`` pooling maps.
- ``...ForTokenClassification`` and ``...ForQuestionAnswering`` put one linear layer on every
  token: the tagging head without a hidden layer and the span head map.

Anything else is refused with the reason. Every folder is checked: the Hugging Face model's
logits on real examples of the task must match PyTorch's within the tolerance.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from mtdnn.archive import load_run
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment
from mtdnn.export.graph import TaskGraph, check_inherited, check_output, check_task_names
from mtdnn.heads.base import Head, HuggingFaceHead
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.task import Task

if TYPE_CHECKING:
    from transformers import PreTrainedModel

__all__ = ["HuggingFaceReport", "export_hf"]

REPORT = "export-report.json"
PARITY_ROWS = 32
"""Most rows of a task's dev (else training) file the parity check runs."""
PIPELINES = {"sequence": "text-classification", "token": "token-classification", "span": None}
"""The ``transformers.pipeline`` task that loads each kind of folder (transformers 5 has no
question-answering pipeline)."""


@dataclass
class HuggingFaceReport:
    """What a Hugging Face export wrote and measured (``export-report.json``).

    Args:
        directory: The export directory (one folder per task).
        models: Per task, the Hugging Face class of its folder.
        pipelines: Per task, the ``transformers.pipeline`` task that loads it (``None``: none does).
        parity: Per task, the largest absolute difference between PyTorch's scores and the
            Hugging Face model's logits.
        rows: Per task, the rows compared and where they came from.
        tolerance: The largest difference allowed.
        seconds: Time taken.
    """

    directory: Path
    models: dict[str, str] = field(default_factory=dict)
    pipelines: dict[str, str | None] = field(default_factory=dict)
    parity: dict[str, float] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)
    tolerance: float = 1e-4
    seconds: float = 0.0

    @property
    def worst(self) -> float:
        """The largest difference over every task."""
        return max(self.parity.values(), default=0.0)

    def write(self) -> Path:
        """Write ``export-report.json`` into the export directory."""
        path = self.directory / REPORT
        report = {
            "format": "hf",
            "models": self.models,
            "pipelines": self.pipelines,
            "parity": {"max_abs_diff": self.parity, "rows": self.rows, "tolerance": self.tolerance},
            "seconds": round(self.seconds, 2),
        }
        path.write_text(json.dumps(report, indent=2) + "\n")
        return path


def export_hf(
    run_dir: Path,
    output: Path,
    registry: Registry,
    *,
    tasks: Sequence[str] = (),
    tolerance: float = 1e-4,
) -> HuggingFaceReport:
    """Write a Hugging Face model folder per task into ``output`` (``output/TASK``), checked.

    Args:
        run_dir: The run directory.
        output: The export directory; it must not exist or be empty.
        registry: The component registry (with the plugins the run used).
        tasks: The tasks to export; all by default.
        tolerance: Most absolute difference allowed between PyTorch's scores and the folder's.

    Raises:
        ConfigurationError: ``output`` is not empty, the encoder is not a Hugging Face model, a
            task does not exist or its head does not map (every refusal is named with its
            reason), or a folder's logits differ from PyTorch's (the report is still written,
            and that folder removed).
    """
    check_output(output)
    started = time.perf_counter()
    experiment, model = load_run(run_dir, registry)
    encoder = model.encoder
    if not isinstance(encoder, HuggingFaceEncoder):
        raise ConfigurationError(
            f"--format hf needs a Hugging Face encoder, and this run's is {type(encoder).__name__}",
            hint="export it with --format onnx",
        )
    chosen = list(tasks) or sorted(experiment.tasks)
    check_task_names(experiment, chosen)
    model = model.cpu().eval()
    built: dict[str, tuple[PreTrainedModel, str]] = {}
    refused: list[str] = []
    for name in chosen:
        head = model.head(name)
        try:
            check_inherited(type(head), "export_hf")
            spec = head.export_hf()
            built[name] = build_model(encoder, spec, _settings(experiment, name, head, registry)), spec.kind
        except ConfigurationError as exc:
            refused.append(f"{name}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    if refused:
        raise ConfigurationError(
            "cannot export " + "; ".join(refused),
            hint="export the other tasks with --task, or all of them with --format onnx" if built else None,
        )
    output.mkdir(parents=True, exist_ok=True)
    report = HuggingFaceReport(directory=output, tolerance=tolerance)
    for name, (hf_model, kind) in built.items():
        folder = output / name
        hf_model.save_pretrained(str(folder))
        _save_tokenizer(encoder, folder, experiment.tasks[name].settings.max_length)
        report.models[name] = type(hf_model).__name__
        report.pipelines[name] = PIPELINES[kind]
        report.parity[name], report.rows[name] = _parity(model, experiment.tasks[name], hf_model)
    report.seconds = time.perf_counter() - started
    report.write()
    if report.worst > tolerance:
        for name, difference in report.parity.items():
            if difference > tolerance:  # nothing that failed its check is left to be loaded
                shutil.rmtree(output / name)
        worst = max(report.parity, key=report.parity.__getitem__)
        raise ConfigurationError(
            f"the Hugging Face model of {worst!r} differs from PyTorch by up to {report.worst:.2e} "
            f"(tolerance {tolerance:g}); see {str(output / REPORT)!r}",
            hint="its class may not compute what the head does; --format onnx exports it faithfully",
        )
    return report


def _settings(experiment: Experiment, name: str, head: Head, registry: Registry) -> dict[str, Any]:
    """What ``config.json`` records under ``mtdnn`` besides the head's own settings."""
    return {
        "task": name,
        "head": registry.name_of(type(head), kind=Head),
        "max_length": experiment.tasks[name].settings.max_length,
    }


def build_model(encoder: HuggingFaceEncoder, head: HuggingFaceHead, extra: dict[str, Any]) -> PreTrainedModel:
    """The Hugging Face model for one head: the encoder's weights and the head's layers.

    Raises:
        ConfigurationError: transformers has no such class for the encoder's architecture, or
            the head's layers do not fit where the class keeps its own (the message says why).
    """
    from transformers import (
        AutoModelForQuestionAnswering,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
    )

    auto: Any = {
        "sequence": AutoModelForSequenceClassification,
        "token": AutoModelForTokenClassification,
        "span": AutoModelForQuestionAnswering,
    }[head.kind]
    config = copy.deepcopy(encoder.model.config)
    config.architectures = None
    config.num_labels = 2 if head.kind == "span" else len(head.labels or [None])
    if head.labels:
        config.id2label = dict(enumerate(head.labels))
        config.label2id = {label: number for number, label in enumerate(head.labels)}
    config.problem_type = head.problem_type
    config.mtdnn = {**extra, **head.settings}
    try:
        hf_model: PreTrainedModel = auto.from_config(config)
    except ValueError as exc:
        raise ConfigurationError(
            f"transformers has no {auto.__name__.replace('AutoModel', '...')} for {config.model_type} models"
        ) from exc
    pooler = _load_encoder(encoder.model, hf_model.base_model)
    if head.kind == "sequence":
        _place_sequence_head(hf_model, head.layers, encoder, pooler_loaded=pooler)
    else:
        target = hf_model.classifier if head.kind == "token" else hf_model.qa_outputs
        if len(head.layers) != 1 or not isinstance(target, nn.Linear):
            raise ConfigurationError(
                f"{type(hf_model).__name__} puts one linear layer on every token, and the head has "
                f"{len(head.layers)}",
                hint="train the head without hidden_dim",
            )
        _copy_linear(head.layers[0], target)
    hf_model.train(False)
    return hf_model


def _load_encoder(source: nn.Module, target: nn.Module) -> bool:
    """Copy the encoder's weights into the Hugging Face model's base; whether a pooler came too.

    Only the pooler may be missing on either side (token and span classes have none).
    """
    state = source.state_dict()
    result = target.load_state_dict(state, strict=False)
    missing = [key for key in result.missing_keys if not key.startswith("pooler.")]
    unexpected = [key for key in result.unexpected_keys if not key.startswith("pooler.")]
    if missing or unexpected:
        raise ConfigurationError(
            f"the encoder's weights do not fit {type(target).__name__}: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]}"
        )
    return any(key.startswith("pooler.") for key in state) and hasattr(target, "pooler")


def _place_sequence_head(
    hf_model: PreTrainedModel,
    layers: Sequence[nn.Linear],
    encoder: HuggingFaceEncoder,
    *,
    pooler_loaded: bool,
) -> None:
    """Put a sequence head's layers where the class keeps its own, or say why they do not fit."""
    name = type(hf_model).__name__
    width = encoder.output_dim
    classifier = getattr(hf_model, "classifier", None)
    pooler = getattr(hf_model.base_model, "pooler", None)
    hidden = layers[0] if len(layers) == 2 else None
    hidden_fits = hidden is not None and hidden.out_features == width
    if encoder.pooling == "mean":
        raise ConfigurationError(
            f"{name} reads the first token, and the run's encoder pools by the mean of the tokens",
            hint="train with encoder pooling 'pooler' or 'cls' for --format hf",
        )
    if isinstance(classifier, nn.Linear) and isinstance(getattr(pooler, "dense", None), nn.Linear):
        # BERT-like: classifier(pooler(first token)), the pooler a tanh layer
        if encoder.pooling == "pooler" and len(layers) == 1 and pooler_loaded:
            _copy_linear(layers[0], classifier)
            return
        if encoder.pooling == "cls" and hidden_fits:
            _copy_linear(layers[0], pooler.dense)  # type: ignore[union-attr]  # checked above
            _copy_linear(layers[1], classifier)
            return
        raise ConfigurationError(
            f"{name} passes the first token through the model's pooler (a tanh layer of width "
            f"{width}) and then one linear layer; " + _run_head(encoder.pooling, hidden),
            hint=f"train with pooling 'pooler' and no hidden_dim, or pooling 'cls' and hidden_dim {width}",
        )
    dense, out = getattr(classifier, "dense", None), getattr(classifier, "out_proj", None)
    activation = getattr(classifier, "activation", None)
    tanh = activation is None or isinstance(activation, nn.Tanh)  # RoBERTa and MPNet call torch.tanh
    if isinstance(dense, nn.Linear) and isinstance(out, nn.Linear) and tanh:
        # RoBERTa-like: out_proj(tanh(dense(first token)))
        if encoder.pooling == "cls" and hidden_fits:
            _copy_linear(layers[0], dense)
            _copy_linear(layers[1], out)
            return
        raise ConfigurationError(
            f"{name} puts a tanh layer of width {width} and then a linear layer on the first token; "
            + _run_head(encoder.pooling, hidden),
            hint=f"train with encoder pooling 'cls' and head hidden_dim {width}",
        )
    raise ConfigurationError(
        f"{name} classifies through layers that mtdnn's heads do not have ({type(classifier).__name__})",
        hint="export it with --format onnx",
    )


def _run_head(pooling: str, hidden: nn.Linear | None) -> str:
    """What the run has instead, for a refusal."""
    if hidden is None:
        return f"the run pools by {pooling!r} and its head is one linear layer"
    return f"the run pools by {pooling!r} and its head has a hidden layer of width {hidden.out_features}"


def _copy_linear(source: nn.Linear, target: nn.Linear) -> None:
    if source.weight.shape != target.weight.shape:
        raise ConfigurationError(
            f"a head layer of shape {tuple(source.weight.shape)} does not fit the Hugging Face one "
            f"of shape {tuple(target.weight.shape)}"
        )
    with torch.no_grad():
        target.weight.copy_(source.weight)
        if target.bias is not None:
            if source.bias is None:
                target.bias.zero_()
            else:
                target.bias.copy_(source.bias)


def _save_tokenizer(encoder: HuggingFaceEncoder, folder: Path, max_length: int) -> None:
    """The encoder's tokenizer, cutting inputs at the task's ``max_length`` as training did."""
    encoder.tokenizer.save_pretrained(str(folder))
    path = folder / "tokenizer_config.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    settings["model_max_length"] = max_length
    path.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _parity(model: MultiTaskModel, task: Task, hf_model: PreTrainedModel) -> tuple[float, str]:
    """The largest difference between PyTorch's scores and the folder's logits on real rows."""
    encoder = model.encoder
    assert isinstance(encoder, HuggingFaceEncoder)
    features, source = _parity_rows(task, encoder)
    graph = TaskGraph(model, [task.name], list(encoder.input_names))
    worst = 0.0
    for first in range(0, len(features), 8):
        batch = encoder.collate(features[first : first + 8])
        inputs = [batch[name] for name in encoder.input_names if name in batch]
        with torch.no_grad():
            (ours,) = graph(*inputs)
            outputs = hf_model(**{name: batch[name] for name in encoder.input_names if name in batch})
        if hasattr(outputs, "start_logits"):
            theirs = torch.stack([outputs.start_logits, outputs.end_logits], dim=-1)
        else:
            theirs = outputs.logits
        difference = (ours.float() - theirs.float()).abs()
        if difference.dim() == 3:  # tokens: only the real ones count
            difference = difference[batch["attention_mask"].bool()]
        worst = max(worst, float(difference.max()))
    return worst, f"{len(features)} rows of {source}"


def _parity_rows(task: Task, encoder: HuggingFaceEncoder) -> tuple[list[dict[str, list[int]]], str]:
    """Up to :data:`PARITY_ROWS` rows of the task's dev (else training) file; random ids without either."""
    for split in ("dev", "train"):
        if task.settings.file(split) is not None and task.path(split).is_file():
            data = task.load(split, encoder, limit=PARITY_ROWS)
            return list(data.features[:PARITY_ROWS]), str(task.path(split))
    generator = torch.Generator().manual_seed(0)
    specials = set(encoder.tokenizer.all_special_ids)
    ordinary = [token for token in range(len(encoder.tokenizer)) if token not in specials]
    room = task.settings.max_length - encoder.special_tokens(pair=True)
    rows = []
    for length in (2, room // 2, room):
        picks = torch.randint(len(ordinary), (max(length, 2),), generator=generator).tolist()
        ids = [ordinary[pick] for pick in picks]
        rows.append(encoder.build_inputs(ids[: len(ids) // 2], ids[len(ids) // 2 :])[0])
    return rows, "random token ids (no readable dev or training file)"
