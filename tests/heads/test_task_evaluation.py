"""Regression, multi-label and ranking heads through predict_task / evaluate_task with a real encoder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.data import TaskData
from mtdnn.data.dataset import label_ids
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.heads import Head
from mtdnn.losses import Loss
from mtdnn.metrics import Metric
from mtdnn.model import MultiTaskModel
from mtdnn.readers.base import Reader
from mtdnn.registry import Registry
from mtdnn.task import Task, TaskSettings
from mtdnn.training.evaluation import evaluate_task, predict_task
from mtdnn.types import Example, LabelPrediction

CPU = torch.device("cpu")


class _ListReader(Reader):
    def __init__(self, labels: list[str] | None) -> None:
        self._labels = labels

    @property
    def labels(self) -> list[str] | None:
        return self._labels

    def read(self, path: str | Path) -> Iterator[Example]:
        raise NotImplementedError


def _setup(
    registry: Registry,
    tiny_bert: Path,
    head: str,
    labels: list[str] | None,
    metrics: list[str],
    examples: list[Example],
) -> tuple[MultiTaskModel, Task, TaskData]:
    torch.manual_seed(0)
    encoder = HuggingFaceEncoder(str(tiny_bert))
    settings = TaskSettings(
        _ListReader(labels),
        head,
        loss=build(registry, Loss, "cross_entropy", path="loss"),
        metrics=[build(registry, Metric, name, path="metric") for name in metrics],
        eval_batch_size=3,
    )
    module = build(
        registry,
        Head,
        head,
        path="head",
        input_dim=encoder.output_dim,
        num_labels=len(labels or [0]),
        labels=labels,
        task="t",
    )
    task = Task("t", settings, module)
    features = tuple(encoder.featurize(examples, max_length=32))
    data = TaskData("t", tuple(examples), features, label_ids(examples, labels, source="test"))
    return MultiTaskModel(encoder, {"t": module}), task, data


def test_regression_predictions_are_floats_and_correlations_are_scored(
    registry: Registry, tiny_bert: Path
) -> None:
    examples = [Example(str(i), f"text number {i}", "other text" * i, label=float(i) / 2) for i in range(7)]
    model, task, data = _setup(registry, tiny_bert, "regression", None, ["pearson", "spearman"], examples)
    result = predict_task(model, task, data, device=CPU)
    assert all(isinstance(p, LabelPrediction) and isinstance(p.value, float) for p in result.predictions)
    assert [p.probabilities for p in result.predictions] == [(p.value,) for p in result.predictions]
    assert task.head.record(result.predictions[0], examples[0]) == {"prediction": result.predictions[0].value}
    scores = evaluate_task(model, task, data, device=CPU)
    assert list(scores) == ["pearson", "spearman"]
    assert all(-1.0 <= value <= 1.0 for value in scores.values())


def test_multilabel_predictions_are_multi_hot(registry: Registry, tiny_bert: Path) -> None:
    examples = [Example(str(i), f"text {i}", label=[["a"], ["a", "c"], [], ["b"]][i % 4]) for i in range(6)]
    model, task, data = _setup(
        registry, tiny_bert, "multilabel", ["a", "b", "c"], ["f1_micro", "f1_macro"], examples
    )
    result = predict_task(model, task, data, device=CPU)
    for prediction in result.predictions:
        assert len(prediction.probabilities) == 3 and isinstance(prediction.value, tuple)
        assert prediction.value == tuple(i for i, p in enumerate(prediction.probabilities) if p > 0.5)
    record = task.head.record(result.predictions[0], examples[0])
    assert set(record) == {"labels", "probabilities"} and list(record["probabilities"]) == ["a", "b", "c"]
    scores = evaluate_task(model, task, data, device=CPU)
    assert list(scores) == ["f1_micro", "f1_macro"]


def test_ranking_evaluation_scores_whole_groups(registry: Registry, tiny_bert: Path) -> None:
    # Groups are interleaved in file order and larger than one evaluation batch of 3 would split.
    rows = [("q1", 0), ("q2", 1), ("q1", 1), ("q3", 0), ("q2", 0), ("q1", 1), ("q3", 1), ("q2", 1)]
    labels = ["entailment", "not_entailment"]
    examples = [
        Example(
            str(i), f"question {group}", f"candidate sentence {i}" * (i + 1), label=labels[label], group=group
        )
        for i, (group, label) in enumerate(rows)
    ]
    metrics = ["ranking_accuracy", "accuracy", "auc"]
    model, task, data = _setup(registry, tiny_bert, "ranking", labels, metrics, examples)
    result = predict_task(model, task, data, device=CPU)
    for group in ("q1", "q2", "q3"):
        members = [i for i, (g, _) in enumerate(rows) if g == group]
        assert [result.predictions[i].value for i in members].count(0) == 1  # one top candidate per query
        relevant = sum(result.predictions[i].probabilities[0] for i in members)
        assert relevant == pytest.approx(1.0, abs=1e-5)
    scores = evaluate_task(model, task, data, device=CPU)
    assert list(scores) == metrics
    assert scores["ranking_accuracy"] in (0.0, 1 / 3, 2 / 3, 1.0)
