"""AUC, ranking accuracy and averaged F1 (class ids and multi-hot)."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config import build
from mtdnn.metrics import MacroF1, Metric, MicroF1, RocAuc
from mtdnn.registry import Registry


def test_auc_by_hand_with_ties(registry: Registry) -> None:
    metric = build(registry, Metric, "auc", path="metric")
    # Positive-class probabilities: positives 0.9, 0.4, 0.6; negatives 0.4, 0.1.
    # Pairs (pos > neg): 0.9 beats both, 0.6 beats both, 0.4 ties 0.4 (1/2) and beats 0.1: 5.5 / 6.
    scores = torch.tensor([[0.1, 0.9], [0.6, 0.4], [0.4, 0.6], [0.6, 0.4], [0.9, 0.1]])
    targets = torch.tensor([1, 1, 1, 0, 0])
    metric.update(scores.argmax(-1), targets, scores=scores)
    assert metric.compute() == {"auc": pytest.approx(5.5 / 6)}
    flipped = RocAuc(positive=0)
    flipped.update(scores.argmax(-1), targets, scores=scores)
    assert flipped.compute() == {"auc": pytest.approx(5.5 / 6)}


def test_auc_needs_scores_and_two_classes() -> None:
    metric = RocAuc()
    assert metric.compute() == {"auc": 0.0}
    metric.update(torch.tensor([1, 0]), torch.tensor([1, 1]), scores=torch.tensor([0.3, 0.2]))
    assert metric.compute() == {"auc": 0.0}
    metric.reset()
    metric.update(torch.tensor([1, 0]), torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="scores"):
        metric.compute()


def test_averaged_f1_of_class_ids_equals_f1_with_that_average(registry: Registry) -> None:
    predictions, targets = torch.tensor([0, 1, 2, 2, 1, 0, 2]), torch.tensor([0, 2, 2, 1, 1, 0, 0])
    macro = build(registry, Metric, "f1_macro", path="metric")
    micro = build(registry, Metric, "f1_micro", path="metric")
    for metric in (macro, micro):
        metric.update(predictions, targets)
    assert macro.compute() == {"f1_macro": pytest.approx((0.8 + 0.5 + 0.4) / 3)}
    assert micro.compute() == {"f1_micro": pytest.approx(4 / 7)}


def test_averaged_f1_of_multi_hot_rows() -> None:
    predictions = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    targets = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]]).float()
    # Label 0: tp 2. Label 1: tp 1. Label 2: fp 1, fn 1. Pooled: tp 3, fp 1, fn 1.
    micro, macro = MicroF1(), MacroF1()
    for metric in (micro, macro):
        metric.update(predictions[:2], targets[:2])
        metric.update(predictions[2:], targets[2:])
    assert micro.compute() == {"f1_micro": pytest.approx(6 / 8)}
    assert macro.compute() == {"f1_macro": pytest.approx((1.0 + 1.0 + 0.0) / 3)}
    assert MicroF1().compute() == {"f1_micro": 0.0}
