"""The span cross-entropy: start and end positions scored over each row's real tokens."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from mtdnn.config import build
from mtdnn.losses import Loss, SpanCrossEntropyLoss
from mtdnn.registry import Registry
from mtdnn.types import HeadOutput, TaskBatch

MASK = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0]])


def _batch(labels: list[list[int]]) -> TaskBatch:
    inputs = {"input_ids": torch.ones(3, 5, dtype=torch.long), "attention_mask": MASK}
    return TaskBatch("qa", inputs, torch.tensor(labels), ids=("a", "b", "c"))


def _loss(registry: Registry) -> SpanCrossEntropyLoss:
    loss = build(registry, Loss, "span_ce", path="loss")
    assert isinstance(loss, SpanCrossEntropyLoss)
    return loss


def _expected(logits: torch.Tensor, labels: list[list[int]]) -> torch.Tensor:
    """The mean of the start and end cross-entropies, each over the rows' real positions only."""
    totals = []
    for column in (0, 1):
        losses = [
            functional.cross_entropy(logits[row, : int(MASK[row].sum()), column], torch.tensor(label[column]))
            for row, label in enumerate(labels)
            if label[column] != -1
        ]
        totals.append(torch.stack(losses).mean())
    return (totals[0] + totals[1]) / 2


def test_equals_the_cross_entropy_of_start_and_end_over_real_tokens(registry: Registry) -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 2)
    labels = [[1, 3], [0, 0], [2, 2]]
    value = _loss(registry)(HeadOutput(logits=logits), _batch(labels))
    torch.testing.assert_close(value, _expected(logits, labels))
    # by hand for row 2 alone: its padding (position 3, 4) takes no part
    start = -torch.log_softmax(logits[1, :3, 0], dim=0)[0]
    assert float(start) == pytest.approx(
        float(functional.cross_entropy(logits[1:2, :3, 0], torch.tensor([0])))
    )


def test_padding_logits_do_not_change_the_loss(registry: Registry) -> None:
    logits = torch.randn(3, 5, 2)
    labels = [[1, 3], [0, 2], [3, 3]]
    noisy = logits.clone()
    noisy[MASK == 0] = 1e4
    loss = _loss(registry)
    torch.testing.assert_close(
        loss(HeadOutput(logits=noisy), _batch(labels)), loss(HeadOutput(logits=logits), _batch(labels))
    )


def test_rows_labelled_minus_one_are_left_out(registry: Registry) -> None:
    logits = torch.randn(3, 5, 2, requires_grad=True)
    labels = [[1, 3], [-1, -1], [2, 2]]
    value = _loss(registry)(HeadOutput(logits=logits), _batch(labels))
    torch.testing.assert_close(value, _expected(logits, labels))
    value.backward()  # type: ignore[no-untyped-call]
    assert logits.grad is not None
    assert float(logits.grad[1].abs().sum()) == 0.0
    assert float(logits.grad[0].abs().sum()) > 0.0


def test_a_batch_with_nothing_to_learn_has_zero_loss(registry: Registry) -> None:
    logits = torch.randn(3, 5, 2, requires_grad=True)
    value = _loss(registry)(HeadOutput(logits=logits), _batch([[-1, -1]] * 3))
    assert float(value.detach()) == 0.0
    value.backward()  # type: ignore[no-untyped-call]


def test_a_perfect_prediction_costs_almost_nothing(registry: Registry) -> None:
    logits = torch.full((3, 5, 2), -20.0)
    labels = [[1, 3], [0, 2], [3, 3]]
    for row, (start, end) in enumerate(labels):
        logits[row, start, 0] = logits[row, end, 1] = 20.0
    assert float(_loss(registry)(HeadOutput(logits=logits), _batch(labels))) < 1e-6


def test_wrong_shapes_and_missing_labels_are_refused(registry: Registry) -> None:
    loss = _loss(registry)
    with pytest.raises(ValueError, match=r"logits \[B, T, 2\] and labels \[B, 2\]"):
        loss(HeadOutput(logits=torch.randn(3, 5)), _batch([[1, 3], [0, 0], [2, 2]]))
    unlabelled = TaskBatch("qa", {"attention_mask": MASK}, None)
    with pytest.raises(ValueError, match="without labels"):
        loss(HeadOutput(logits=torch.randn(3, 5, 2)), unlabelled)
