"""Optimizers: parameter groups, layer-wise learning-rate decay, head learning rate, schedules."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mtdnn.config import build
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.errors import ConfigurationError
from mtdnn.heads.classification import ClassificationHead
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.training.optim import LinearSchedule, Optimizer


def _model(tiny_bert: Path) -> MultiTaskModel:
    encoder = HuggingFaceEncoder(str(tiny_bert))  # 2 layers
    return MultiTaskModel(encoder, {"a": ClassificationHead(32, 2), "b": ClassificationHead(32, 3)})


def _rate_of(optimizer: torch.optim.Optimizer, model: MultiTaskModel) -> dict[str, float]:
    rates = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    return {name: rates[id(p)] for name, p in model.named_parameters()}


def test_layer_wise_decay_and_head_rate(tiny_bert: Path, registry: Registry) -> None:
    model = _model(tiny_bert)
    config = {"type": "adamw", "lr": 1e-3, "layer_decay": 0.5, "head_lr": 1e-2}
    optimizer = build(registry, Optimizer, config, path="trainer.optimizer").create(model)
    rate = _rate_of(optimizer, model)
    layer = "encoder.model.encoder.layer"
    assert rate[f"{layer}.1.attention.self.query.weight"] == pytest.approx(1e-3)  # top layer, depth 0
    assert rate[f"{layer}.0.attention.self.query.weight"] == pytest.approx(5e-4)  # depth 1
    assert rate["encoder.model.embeddings.word_embeddings.weight"] == pytest.approx(2.5e-4)  # depth 2
    assert rate["encoder.model.pooler.dense.weight"] == pytest.approx(1e-3)
    assert rate["heads.a.classifier.0.weight"] == pytest.approx(1e-2)
    assert rate["heads.b.classifier.0.bias"] == pytest.approx(1e-2)
    assert len(rate) == sum(1 for _ in model.parameters())  # every parameter is in exactly one group
    decay = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    named = dict(model.named_parameters())
    assert decay[id(named[f"{layer}.1.attention.self.query.weight"])] == 0.01
    assert decay[id(named[f"{layer}.1.attention.self.query.bias"])] == 0.0
    assert decay[id(named["encoder.model.embeddings.LayerNorm.weight"])] == 0.0


def test_without_options_every_parameter_trains_at_lr(tiny_bert: Path, registry: Registry) -> None:
    model = _model(tiny_bert)
    optimizer = build(registry, Optimizer, {"type": "adamax", "lr": 3e-4}, path="o").create(model)
    assert isinstance(optimizer, torch.optim.Adamax)
    assert set(_rate_of(optimizer, model).values()) == {3e-4}


def test_the_schedule_scales_every_group_alike(tiny_bert: Path, registry: Registry) -> None:
    model = _model(tiny_bert)
    optimizer = build(
        registry, Optimizer, {"type": "adamw", "lr": 1e-3, "layer_decay": 0.5}, path="o"
    ).create(model)
    initial = [group["lr"] for group in optimizer.param_groups]
    scheduler = LinearSchedule(warmup=0.0).create(optimizer, total_steps=10)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    halfway = [group["lr"] for group in optimizer.param_groups]
    assert halfway == pytest.approx([rate * 0.5 for rate in initial])


def test_bad_rates_are_configuration_errors(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match=r"optimizer\.layer_decay: layer_decay must be at most 1"):
        build(registry, Optimizer, {"type": "adamw", "layer_decay": 1.5}, path="trainer.optimizer")
    with pytest.raises(ConfigurationError, match="head_lr: head_lr must be greater than 0"):
        build(registry, Optimizer, {"type": "adamw", "head_lr": 0.0}, path="trainer.optimizer")


def test_adamw_is_fused_where_the_device_has_the_kernel_and_updates_as_the_loop_does(
    tiny_bert: Path, registry: Registry
) -> None:
    torch.manual_seed(0)
    fused_model, loop_model = _model(tiny_bert), _model(tiny_bert)
    loop_model.load_state_dict(fused_model.state_dict())
    fused = build(registry, Optimizer, {"type": "adamw", "lr": 1e-3}, path="o").create(fused_model)
    loop = build(registry, Optimizer, {"type": "adamw", "lr": 1e-3, "fused": False}, path="o").create(
        loop_model
    )
    assert all(group["fused"] for group in fused.param_groups)
    assert not any(group["fused"] for group in loop.param_groups)
    ids = torch.randint(5, 1000, (4, 12))
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    for model, optimizer in ((fused_model, fused), (loop_model, loop)):
        torch.manual_seed(1)  # the same dropout mask: the same gradients
        model.encoder(inputs).pooled.square().mean().backward()
        optimizer.step()
    # One step of lr 1e-3: the two kernels agree to rounding (measured: 1e-9 at most). Later steps
    # drift apart by up to ~1e-5, as Adam's normalisation magnifies rounding in tiny gradients.
    for (name, a), (_, b) in zip(fused_model.named_parameters(), loop_model.named_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-8, msg=name)
