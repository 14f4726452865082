"""The multi-label head and the bce loss."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config import build
from mtdnn.heads import Head, MultiLabelHead
from mtdnn.losses import Loss
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch


def _encoded(pooled: torch.Tensor) -> EncoderOutput:
    return EncoderOutput(hidden=pooled[:, None], mask=torch.ones(len(pooled), 1), pooled=pooled)


def _batch(targets: list[list[float]]) -> TaskBatch:
    return TaskBatch(
        task="topics", inputs={}, labels=torch.tensor(targets), ids=tuple(map(str, range(len(targets))))
    )


def test_builds_from_config_and_predicts_multi_hot_rows(registry: Registry) -> None:
    head = build(
        registry, Head, {"type": "multilabel", "hidden_dim": 4}, path="head", input_dim=8, num_labels=3
    )
    assert isinstance(head, MultiLabelHead)
    output = head(_encoded(torch.randn(2, 8)), _batch([[1, 0, 1], [0, 0, 0]]))
    assert output.logits.shape == (2, 3)
    fixed = HeadOutput(logits=torch.tensor([[2.0, -1.0, 0.1], [-3.0, -0.1, 5.0]]))
    assert head.predict(fixed).tolist() == [[1, 0, 1], [0, 0, 1]]
    assert head.probabilities(fixed).shape == (2, 3)


def test_bce_matches_torch_and_reaches_every_parameter(registry: Registry) -> None:
    loss_fn = build(registry, Loss, "bce", path="loss")
    logits = torch.tensor([[2.0, -1.0, 0.1], [-3.0, -0.1, 5.0]])
    targets = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(targets))
    assert float(loss_fn(HeadOutput(logits), _batch(targets))) == pytest.approx(float(expected))
    weighted = build(registry, Loss, {"type": "bce", "pos_weight": 3.0}, path="loss")
    assert float(weighted(HeadOutput(logits), _batch(targets))) > float(expected)
    with pytest.raises(ValueError, match="multi-hot"):
        loss_fn(HeadOutput(logits), TaskBatch(task="t", inputs={}, labels=torch.tensor([0, 1])))
    head = MultiLabelHead(8, 3, hidden_dim=4)
    loss_fn(head(_encoded(torch.randn(2, 8)), _batch(targets)), _batch(targets)).backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
