"""The `focal` loss against hand computations."""

from __future__ import annotations

import pytest
import torch

from mtdnn.errors import ConfigurationError
from mtdnn.types import HeadOutput, TaskBatch
from mtdnn_focal.loss import FocalLoss


def _batch(labels: list[int]) -> TaskBatch:
    return TaskBatch(task="t", inputs={}, labels=torch.tensor(labels), ids=tuple(map(str, labels)))


def test_gamma_zero_is_the_cross_entropy() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.5], [-3.0, 1.0]])
    batch = _batch([0, 1, 0])
    expected = torch.nn.functional.cross_entropy(logits, batch.labels)  # type: ignore[arg-type]
    torch.testing.assert_close(FocalLoss(gamma=0.0)(HeadOutput(logits=logits), batch), expected)


def test_an_easy_example_counts_less_than_a_hard_one() -> None:
    loss = FocalLoss(gamma=2.0)
    easy = loss(HeadOutput(logits=torch.tensor([[4.0, -4.0]])), _batch([0]))
    hard = loss(HeadOutput(logits=torch.tensor([[-1.0, 1.0]])), _batch([0]))
    p_easy = torch.softmax(torch.tensor([4.0, -4.0]), dim=0)[0]
    torch.testing.assert_close(easy, -((1 - p_easy) ** 2) * p_easy.log())
    assert float(hard) > 100 * float(easy)


def test_a_negative_gamma_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="gamma"):
        FocalLoss(gamma=-1.0)


def test_token_level_logits_skip_padding_words_and_weigh_classes() -> None:
    logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])  # [1 row, 3 words, 2 classes]
    labels = torch.tensor([[0, 1, -1]])  # the third word is padding
    batch = TaskBatch(task="t", inputs={}, labels=labels, ids=("a",))
    flat = logits[0, :2]
    expected = torch.nn.functional.cross_entropy(flat, labels[0, :2])
    torch.testing.assert_close(FocalLoss(gamma=0.0)(HeadOutput(logits=logits), batch), expected)
    each = torch.nn.functional.cross_entropy(flat, labels[0, :2], reduction="none")
    weighted = each * torch.tensor([0.25, 2.0])
    torch.testing.assert_close(
        FocalLoss(gamma=0.0, alpha=[0.25, 2.0])(HeadOutput(logits=logits), batch), weighted.mean()
    )


def test_alpha_must_have_one_weight_per_class() -> None:
    batch = _batch([0])
    with pytest.raises(ConfigurationError, match="alpha has 3 weights for 2 classes"):
        FocalLoss(alpha=[1.0, 1.0, 1.0])(HeadOutput(logits=torch.zeros(1, 2)), batch)
    with pytest.raises(ConfigurationError, match="alpha must be non-negative"):
        FocalLoss(alpha=[1.0, -1.0])
