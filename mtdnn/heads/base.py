"""The task-head interface: scores, decoded predictions, their records and files, and metrics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from mtdnn.config.checks import check_probability
from mtdnn.data.dataset import TaskData, featurize_examples
from mtdnn.encoders.base import Encoder
from mtdnn.errors import ConfigurationError
from mtdnn.functional import squared_error
from mtdnn.metrics.base import DecodedMetric, Metric
from mtdnn.portable.records import label_name, label_record
from mtdnn.types import EncoderOutput, Example, HeadOutput, LabelPrediction, TaskBatch

__all__ = ["Head", "HuggingFaceHead", "LabelHead", "linear_layers", "output_layers"]


@dataclass(frozen=True)
class HuggingFaceHead:
    """A head in Hugging Face's terms, for ``mtdnn export --format hf``.

    Args:
        kind: ``sequence`` (``...ForSequenceClassification``: the pooled vector, then the
            layers), ``token`` (``...ForTokenClassification``: the layers on every token) or
            ``span`` (``...ForQuestionAnswering``: one layer giving a start and an end logit per
            token).
        layers: The head's linear layers in order (an optional tanh hidden layer, then the output
            layer), with any rescaling of the output folded into the last one.
        problem_type: For ``sequence``: ``single_label_classification``,
            ``multi_label_classification`` or ``regression`` (Hugging Face's names).
        labels: The label names in id order; ``None`` for one value or for spans.
        settings: What the Hugging Face head has no place for but a user needs to decode as
            ``mtdnn predict`` does (a threshold, the longest answer); written to the model's
            ``config.json`` under ``mtdnn``.
    """

    kind: Literal["sequence", "token", "span"]
    layers: tuple[nn.Linear, ...]
    problem_type: str | None = None
    labels: list[str] | None = None
    settings: dict[str, Any] = field(default_factory=dict)


class Head(nn.Module):
    """Maps the shared encoder's output to one task's scores, and owns what it predicts.

    A head turns a batch into scores (:meth:`forward`), the scores of each row into CPU tensors
    (:meth:`row_scores`) and those into one prediction per example (:meth:`decode`), of a type of
    its choosing: one tag per word, an answer span, a :class:`~mtdnn.types.LabelPrediction`. The
    head also feeds its predictions to the task's metrics (:meth:`update_metric`), turns one into
    a JSON record (:meth:`record`, ``mtdnn predict``) and writes a predictions file
    (:meth:`write_predictions`, ``mtdnn evaluate --predictions``), so a plugin head with a new
    kind of prediction needs no change to the core.

    By default a head featurizes one row per example and feeds decoded metrics
    (:class:`~mtdnn.metrics.base.DecodedMetric`); heads that predict labels derive from
    :class:`LabelHead`. A ``self_supervised`` head makes its targets from its input (masked-LM),
    so its task trains and evaluates on unlabelled files.
    """

    self_supervised: ClassVar[bool] = False
    reads_tokens: ClassVar[bool] = True
    """Whether :meth:`forward` reads the encoder's token states (``hidden``); a head that reads
    only ``pooled`` sets it to ``False``, and the encoder may then skip the other positions'
    work in its last layer (:meth:`~mtdnn.encoders.base.Encoder.pooled_only`). A subclass that
    reads ``hidden`` must set it back to ``True``."""
    input_words: ClassVar[bool] = False
    """Whether the head labels words (``Example.words``), so raw text must be split into words first."""
    soft_targets: ClassVar[str | None] = None
    """How the scores of :meth:`teacher_scores` turn into distributions, for averaging teachers:
    ``softmax`` (over the last axis), ``sigmoid`` (each element a yes/no probability), ``value``
    (real values), ``group`` (softmax over the rows of a group), ``positions`` (each column a
    softmax over the row's entries: span starts and ends); ``None``: the head can neither
    teach nor learn from soft targets (distillation refuses it)."""
    soft_positions: ClassVar[str] = "example"
    """What the entries of a soft-target row are: ``example`` (one per example), ``word`` (one
    per word of the example) or ``token`` (one per token of a window)."""

    def featurize(
        self,
        task: str,
        examples: list[Example],
        encoder: Encoder,
        *,
        max_length: int,
        labels: Sequence[str] | None,
        source: str,
    ) -> TaskData:
        """Turn a task's examples into rows for this head; by default one row per example.

        Args:
            task: The task's name.
            examples: The examples, in file order.
            encoder: Supplies tokenization.
            max_length: Longest row, in tokens.
            labels: The task's label vocabulary (``None``: real-valued targets or unlabelled).
            source: Where the examples came from, for messages.
        """
        return featurize_examples(
            task, examples, encoder, max_length=max_length, labels=labels, source=source
        )

    def prepare(self, batch: TaskBatch) -> TaskBatch:
        """Change a batch before the encoder sees it (masked-LM masks tokens); the default keeps it."""
        return batch

    def forward(self, encoded: EncoderOutput, batch: TaskBatch) -> HeadOutput:
        """Score one batch of this head's task (after :meth:`prepare`)."""
        raise NotImplementedError

    def divergence(self, a: HeadOutput, b: HeadOutput, batch: TaskBatch) -> torch.Tensor:
        """How far two outputs of this head for the same (prepared) batch are apart.

        Objectives that compare two forward passes use it: R-Drop's two dropout masks, SMART's
        clean and perturbed inputs, a student and its teacher. Built-in heads compute it in
        float32 (also under autocast), as a scalar that is 0 for equal outputs and > 0 otherwise,
        differentiable in both arguments.

        Raises:
            NotImplementedError: The head does not define it (objectives check this in their
                ``setup`` and say which head lacks it).
        """
        raise NotImplementedError(f"{type(self).__name__} does not define divergence(a, b, batch)")

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """The scores of each row of a batch, on the CPU (shapes may differ per row)."""
        raise NotImplementedError(f"{type(self).__name__} does not define row_scores(output, batch)")

    def teacher_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Each row's scores as soft targets for a student: float32 ``[n, C]`` tensors on the CPU.

        What a distillation targets file stores per row (see :attr:`soft_targets` for how they
        become distributions). Label heads give their logits, one ``[1, C]`` row per example.

        Raises:
            NotImplementedError: The head cannot teach (:attr:`soft_targets` is ``None``).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot give soft targets")

    def teacher_rows(
        self, data: TaskData, scores: Sequence[torch.Tensor]
    ) -> tuple[list[str], list[torch.Tensor]]:
        """The ids and soft targets to store from the :meth:`teacher_scores` of every row of ``data``.

        By default one target per row, under the row's id; a head whose rows are windows may
        merge them (the ``tagging`` head stores one row of words per example).
        """
        return [data.row_id(row) for row in range(len(data))], list(scores)

    def target_ids(self, row_ids: Sequence[str]) -> list[str]:
        """The ids under which the soft targets of these rows are stored (see :meth:`teacher_rows`)."""
        return list(row_ids)

    def teacher_batch(self, rows: Sequence[torch.Tensor], batch: TaskBatch) -> torch.Tensor:
        """A batch's soft-target rows (as :meth:`teacher_scores` gave them), shaped as its logits."""
        raise NotImplementedError(f"{type(self).__name__} cannot learn from soft targets")

    def soft_loss(
        self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch, *, temperature: float = 1.0
    ) -> torch.Tensor:
        """How far the student's ``output`` is from the ``teacher``'s scores (a float32 scalar, 0 when equal).

        ``KL(teacher || student)`` of the distributions at ``temperature`` (mean squared error of
        real values); the teacher is a constant.

        Args:
            output: The student's output for ``batch``.
            teacher: :meth:`teacher_batch` of the batch's soft targets, on the output's device.
            batch: The batch.
            temperature: Divides both sides' logits before the softmax (Hinton et al. 2015).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot learn from soft targets")

    def logit_distance(self, output: HeadOutput, teacher: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mean squared difference between the student's logits and the teacher's (Tang et al. 2019)."""
        return squared_error(output.logits, teacher.to(output.logits.device))

    def export_scores(self, encoded: EncoderOutput, batch: TaskBatch) -> torch.Tensor:
        """What an exported graph (``mtdnn export``) outputs for this head; by default the logits.

        The batch holds only the encoder inputs: whatever needs more (word positions, groups,
        windows) belongs to :meth:`export_decoding`, outside the graph.
        """
        return self.forward(encoded, batch).logits

    def export_decoding(self) -> dict[str, Any]:
        """How the torch-free runtime of an export turns :meth:`export_scores` into predictions.

        A JSON object with a ``kind`` the runtime knows (see ``docs/deployment.md``): ``label``
        (with ``scores``: ``softmax``, ``sigmoid``, ``value`` or ``group_softmax``, and ``choose``:
        ``argmax``, ``threshold``, ``value`` or ``group_top``) or ``tagging``.

        Raises:
            ConfigurationError: The head cannot be exported; the message says why.
        """
        raise ConfigurationError(
            f"the {type(self).__name__} head cannot be exported: it does not say how the runtime "
            "decodes its scores (Head.export_decoding)"
        )

    def export_hf(self) -> HuggingFaceHead:
        """How this head maps onto a standard Hugging Face head (``mtdnn export --format hf``).

        Raises:
            ConfigurationError: No standard Hugging Face head computes what this one does; the
                message says why.
        """
        raise ConfigurationError(
            f"the {type(self).__name__} head has no standard Hugging Face counterpart "
            "(Head.export_hf): only classification, multilabel, regression, tagging and span heads map "
            "onto ...ForSequenceClassification, ...ForTokenClassification or ...ForQuestionAnswering"
        )

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """Merge the rows' scores (in row order) into one prediction per example of ``data``."""
        raise NotImplementedError(f"{type(self).__name__} does not define decode(data, scores)")

    def accepts(self, metric: Metric) -> bool:
        """Whether :meth:`update_metric` can feed ``metric`` (by default: a decoded metric)."""
        return isinstance(metric, DecodedMetric)

    def update_metric(self, metric: Metric, data: TaskData, predictions: Sequence[Any]) -> None:
        """Add the predictions of ``data``'s examples to ``metric``; by default with the examples.

        Raises:
            TypeError: The metric is not one this head :meth:`accepts` (tasks refuse that pair
                when they are built).
        """
        if not isinstance(metric, DecodedMetric):
            raise TypeError(f"{type(self).__name__} feeds decoded metrics, not {type(metric).__name__}")
        metric.add(predictions, data.examples)

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """One prediction as a JSON-ready object (a line of ``mtdnn predict``, after the example's id)."""
        raise NotImplementedError(f"{type(self).__name__} does not define record(prediction, example)")

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        """Write the predictions of ``examples`` next to them; return the file written.

        By default ``STEM.jsonl``, one ``{"id", ...record}`` object per example.

        Args:
            stem: The file to write, without its suffix (``DIR/TASK``).
            examples: The examples, with their gold labels where they have any.
            predictions: One prediction per example, as :meth:`decode` returns them.
        """
        objects = (
            {"id": example.id, **self.record(prediction, example)}
            for example, prediction in zip(examples, predictions, strict=True)
        )
        return _write_jsonl(stem.with_name(stem.name + ".jsonl"), objects)


class LabelHead(Head):
    """A head that predicts a label (or a value) per example from class scores.

    Its rows are the examples; a row's scores are the probabilities of :meth:`probabilities`,
    and a prediction is a :class:`~mtdnn.types.LabelPrediction` (the label id, the multi-label
    ids or the value, with the probabilities). Label metrics (accuracy, F1, correlations, AUC,
    ranking accuracy) receive the predictions, the gold targets, the probabilities as ``scores``
    and, for grouped data, the group ids.

    Subclasses implement :meth:`forward`, :meth:`probabilities` and :meth:`choose`, and take the
    task's ``labels`` (a run-time extra) to name them in records.
    """

    labels: list[str] | None = None

    def probabilities(self, output: HeadOutput) -> torch.Tensor:
        """Turn scores into per-label probabilities ``[B, C]`` (the value ``[B, 1]`` for regression)."""
        raise NotImplementedError

    def predict(self, output: HeadOutput) -> torch.Tensor:
        """The prediction of each row of one batch: :meth:`choose` applied to its probabilities."""
        groups = getattr(output, "groups", None)  # a ranking head's output carries its batch's groups
        return self.choose(self.probabilities(output), groups)

    def choose(self, probabilities: torch.Tensor, groups: torch.Tensor | None) -> torch.Tensor:
        """Predictions ``[N]`` (label ids or values) or ``[N, C]`` (multi-hot) from probabilities ``[N, C]``.

        Args:
            probabilities: What :meth:`probabilities` gave for every example.
            groups: Each example's group id ``[N]`` (ranking), or ``None``.
        """
        raise NotImplementedError

    def row_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Each row's probabilities, in float32 on the CPU."""
        return list(self.probabilities(output).float().cpu())

    def teacher_scores(self, output: HeadOutput, batch: TaskBatch) -> list[torch.Tensor]:
        """Each example's logits as a ``[1, C]`` float32 tensor on the CPU."""
        if self.soft_targets is None:
            return super().teacher_scores(output, batch)
        logits = output.logits.detach().float().cpu()
        return list(logits.reshape(logits.shape[0], 1, -1))

    def teacher_batch(self, rows: Sequence[torch.Tensor], batch: TaskBatch) -> torch.Tensor:
        """The examples' ``[1, C]`` rows stacked to ``[B, C]``."""
        if self.soft_targets is None:
            return super().teacher_batch(rows, batch)
        return torch.cat(list(rows)).float()

    def decode(self, data: TaskData, scores: Sequence[torch.Tensor]) -> list[Any]:
        """One :class:`~mtdnn.types.LabelPrediction` per example (its rows are its examples)."""
        if not scores:
            return []
        probabilities = torch.stack(list(scores))
        groups = None if data.groups is None else torch.tensor(data.groups)
        chosen = self.choose(probabilities, groups)
        return [
            LabelPrediction(value=_value(value), probabilities=tuple(row.tolist()))
            for value, row in zip(chosen, probabilities, strict=True)
        ]

    def accepts(self, metric: Metric) -> bool:
        """Label metrics, not decoded ones."""
        return not isinstance(metric, DecodedMetric)

    def update_metric(self, metric: Metric, data: TaskData, predictions: Sequence[Any]) -> None:
        """Give ``metric`` the predictions, gold targets, probabilities (``scores``) and groups."""
        if not predictions:
            return
        values = torch.tensor([_metric_value(p.value, len(p.probabilities)) for p in predictions])
        targets = torch.zeros(len(predictions)) if data.targets is None else torch.tensor(data.targets)
        scores = torch.tensor([p.probabilities for p in predictions])
        groups = None if data.groups is None else torch.tensor(data.groups)
        metric.update(values, targets, scores=scores, groups=groups)

    def named(self, value: int | float | tuple[int, ...]) -> Any:
        """A prediction's value as the user reads it: the label name(s), or the real value."""
        return label_name(value, self.labels)

    def record(self, prediction: Any, example: Example) -> dict[str, Any]:
        """``label`` (``labels``: multi-label) and per-label ``probabilities``; ``prediction`` for values."""
        assert isinstance(prediction, LabelPrediction)
        return label_record(prediction.value, prediction.probabilities, self.labels)

    def write_predictions(self, stem: Path, examples: Sequence[Example], predictions: Sequence[Any]) -> Path:
        """``STEM.jsonl``: ``{"id", "prediction", "gold"}`` per example (with label names where there are)."""
        objects = (
            {"id": example.id, "prediction": self.named(prediction.value), "gold": example.label}
            for example, prediction in zip(examples, predictions, strict=True)
        )
        return _write_jsonl(stem.with_name(stem.name + ".jsonl"), objects)


def _write_jsonl(path: Path, objects: Iterable[dict[str, Any]]) -> Path:
    """Write one JSON object per line (UTF-8, non-ASCII kept) and return ``path``."""
    path.write_text(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in objects), encoding="utf-8"
    )
    return path


def _value(chosen: torch.Tensor) -> int | float | tuple[int, ...]:
    """A prediction tensor of one example as a label id, a value, or the ids of a multi-hot vector."""
    if chosen.dim() == 1:
        return tuple(int(i) for i in chosen.nonzero().reshape(-1).tolist())
    if chosen.is_floating_point():
        return float(chosen)
    return int(chosen)


def _metric_value(value: int | float | tuple[int, ...], width: int) -> Any:
    """What a label metric reads for one prediction: the id or value, or a multi-hot vector."""
    if isinstance(value, tuple):
        return [int(i in value) for i in range(width)]
    return value


def dropout_layer(probability: float, *, path: str = "dropout") -> nn.Dropout:
    """A dropout layer, its probability checked first (in ``[0, 1)``, at the config path ``path``)."""
    check_probability(probability, path=path)
    return nn.Dropout(probability)


def linear_layers(layers: nn.Module) -> tuple[nn.Linear, ...]:
    """The linear layers of :func:`output_layers` (or of any module), in order."""
    return tuple(module for module in layers.modules() if isinstance(module, nn.Linear))


def output_layers(
    input_dim: int, output_dim: int, *, dropout: float, hidden_dim: int | None
) -> nn.Sequential:
    """The layers many heads put on the pooled vector: an optional tanh hidden layer, then a linear one.

    Args:
        input_dim: Size of the input vector.
        output_dim: Size of the output (labels, or 1 for a score).
        dropout: Dropout after the hidden layer (the head applies its own input dropout).
        hidden_dim: Size of the hidden layer; ``None`` for a single linear layer.
    """
    layers: list[nn.Module] = []
    width = input_dim
    if hidden_dim is not None:
        layers += [nn.Linear(input_dim, hidden_dim), nn.Tanh(), dropout_layer(dropout)]
        width = hidden_dim
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)
