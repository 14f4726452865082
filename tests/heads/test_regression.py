"""The regression head (STS-B style real-valued targets)."""

from __future__ import annotations

import pytest
import torch

from mtdnn.config import build
from mtdnn.errors import ConfigurationError
from mtdnn.heads import Head, RegressionHead
from mtdnn.losses import Loss, MeanSquaredErrorLoss
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, HeadOutput, TaskBatch


def _encoded(pooled: torch.Tensor) -> EncoderOutput:
    return EncoderOutput(hidden=pooled[:, None], mask=torch.ones(len(pooled), 1), pooled=pooled)


def _batch(targets: list[float]) -> TaskBatch:
    return TaskBatch(task="stsb", inputs={}, labels=torch.tensor(targets), ids=tuple(map(str, targets)))


def _head(registry: Registry, **options: object) -> RegressionHead:
    config = {"type": "regression", **options}
    head = build(registry, Head, config, path="head", input_dim=8, num_labels=1, task="stsb")
    assert isinstance(head, RegressionHead)
    return head


def test_builds_from_config_and_predicts_one_float_per_example(registry: Registry) -> None:
    head = _head(registry, hidden_dim=4, normalize=[0, 5])
    output = head(_encoded(torch.randn(3, 8)), _batch([1.0, 2.0, 3.0]))
    assert output.logits.shape == (3, 1)
    assert head.predict(output).shape == (3,)
    assert head.predict(output).dtype == torch.float32
    assert head.probabilities(output).shape == (3, 1)


def test_a_labelled_task_or_a_bad_range_is_a_configuration_error(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="2 labels"):
        build(registry, Head, "regression", path="head", input_dim=8, num_labels=2, task="t")
    with pytest.raises(ConfigurationError, match="low < high"):
        _head(registry, normalize=[5, 0])
    with pytest.raises(ConfigurationError, match="low < high"):
        build(registry, Loss, {"type": "mse", "normalize": [1, 1]}, path="loss")


def test_normalized_output_maps_back_to_the_target_scale() -> None:
    head = RegressionHead(2, dropout=0.0, normalize=(0.0, 5.0))
    linear = head.regressor[0]
    assert isinstance(linear, torch.nn.Linear)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.0]]))
        linear.bias.zero_()
    output = head(_encoded(torch.tensor([[0.0, 9.0], [0.5, 9.0], [1.0, 9.0]])), _batch([0.0, 0.0, 0.0]))
    assert head.predict(output).tolist() == [0.0, 2.5, 5.0]


def test_mse_in_normalized_units_and_gradients_reach_every_parameter(registry: Registry) -> None:
    plain = build(registry, Loss, "mse", path="loss")
    scaled = build(registry, Loss, {"type": "mse", "normalize": [0, 5]}, path="loss")
    output = HeadOutput(logits=torch.tensor([[1.0], [4.0]]))
    batch = _batch([2.0, 4.0])
    assert float(plain(output, batch)) == pytest.approx(0.5)
    assert float(scaled(output, batch)) == pytest.approx(0.5 / 25)
    head = _head(registry, hidden_dim=4, normalize=[0, 5])
    loss = scaled(
        head(_encoded(torch.randn(4, 8)), _batch([0.0, 1.0, 4.5, 5.0])), _batch([0.0, 1.0, 4.5, 5.0])
    )
    loss.backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_fits_a_linear_target() -> None:
    torch.manual_seed(0)
    head = RegressionHead(4, dropout=0.0, normalize=(0.0, 5.0))
    loss_fn = MeanSquaredErrorLoss(normalize=(0.0, 5.0))
    pooled = torch.rand(64, 4)
    batch = _batch((5 * pooled[:, 0]).tolist())
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(300):
        loss = loss_fn(head(_encoded(pooled), batch), batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        errors = head.predict(head(_encoded(pooled), batch)) - 5 * pooled[:, 0]
    assert float(errors.abs().max()) < 0.2
