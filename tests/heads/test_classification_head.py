"""The classification head and the cross-entropy loss."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config import build
from mtdnn.errors import ConfigurationError
from mtdnn.heads import ClassificationHead, Head
from mtdnn.losses import CrossEntropyLoss, Loss
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, TaskBatch


def _encoded(batch: int = 4, dim: int = 8) -> EncoderOutput:
    hidden = torch.randn(batch, 5, dim)
    return EncoderOutput(hidden=hidden, mask=torch.ones(batch, 5), pooled=hidden[:, 0])


def _batch(labels: list[int]) -> TaskBatch:
    return TaskBatch(
        task="t", inputs={}, labels=torch.tensor(labels), ids=tuple(str(i) for i in range(len(labels)))
    )


def test_builds_from_config_with_runtime_facts(registry: Registry) -> None:
    head = build(
        registry,
        Head,
        {"type": "classification", "hidden_dim": 16},
        path="head",
        input_dim=8,
        num_labels=3,
        task="t",
    )
    assert isinstance(head, ClassificationHead)
    output = head(_encoded(), _batch([0, 1, 2, 0]))
    assert output.logits.shape == (4, 3)
    assert head.predict(output).shape == (4,)
    torch.testing.assert_close(head.probabilities(output).sum(-1), torch.ones(4))


def test_runtime_facts_cannot_be_set_in_the_config(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="num_labels"):
        build(
            registry,
            Head,
            {"type": "classification", "num_labels": 5},
            path="head",
            input_dim=8,
            num_labels=3,
        )


def test_loss_gradient_reaches_the_head_and_training_fits_a_separable_problem(registry: Registry) -> None:
    torch.manual_seed(0)
    head = ClassificationHead(8, 2, dropout=0.0)
    loss_fn = build(registry, Loss, {"type": "cross_entropy"}, path="loss")
    pooled = torch.randn(64, 8)
    labels = (pooled[:, 0] > 0).long()
    encoded = EncoderOutput(hidden=pooled[:, None], mask=torch.ones(64, 1), pooled=pooled)
    batch = _batch(labels.tolist())
    optimizer = torch.optim.SGD(head.parameters(), lr=0.5)
    first = None
    for _ in range(100):
        loss = loss_fn(head(encoded, batch), batch)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 4
    assert (head.predict(head(encoded, batch)) == labels).float().mean() > 0.95


def test_cross_entropy_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=1.5)
    weighted = CrossEntropyLoss(class_weights=[1.0, 2.0, 3.0])
    with pytest.raises(ConfigurationError, match="class_weights has 3 values for 2 classes"):
        weighted(ClassificationHead(8, 2)(_encoded(), _batch([0, 1, 0, 1])), _batch([0, 1, 0, 1]))
    smooth = CrossEntropyLoss(label_smoothing=0.1)
    logits = torch.tensor([[10.0, -10.0]])
    from mtdnn.types import HeadOutput

    assert float(smooth(HeadOutput(logits), _batch([0]))) > float(
        CrossEntropyLoss()(HeadOutput(logits), _batch([0]))
    )
