"""The stochastic answer network head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mtdnn.api import train
from mtdnn.config import build
from mtdnn.errors import ConfigurationError
from mtdnn.heads import Head, SanHead
from mtdnn.heads.san import segment_masks
from mtdnn.losses import Loss
from mtdnn.registry import Registry
from mtdnn.types import EncoderOutput, TaskBatch
from tests.conftest import quickstart_config

# Three rows, hidden 8: a full pair, a padded pair and a padded single sentence.
MASK = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0]])
TYPES = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0]])


def _inputs(batch: int = 3, dim: int = 8) -> tuple[EncoderOutput, TaskBatch]:
    hidden = torch.randn(batch, 7, dim)
    encoded = EncoderOutput(hidden=hidden, mask=MASK, pooled=hidden[:, 0])
    inputs = {"input_ids": torch.randint(100, (batch, 7)), "attention_mask": MASK, "token_type_ids": TYPES}
    return encoded, TaskBatch(task="rte", inputs=inputs, labels=torch.tensor([0, 1, 2]), ids=("a", "b", "c"))


def _san(registry: Registry, **options: object) -> SanHead:
    head = build(
        registry, Head, {"type": "san", **options}, path="head", input_dim=8, num_labels=3, task="rte"
    )
    assert isinstance(head, SanHead)
    return head


def test_builds_from_config_and_outputs_log_probabilities(registry: Registry) -> None:
    head = _san(registry, turns=3, hidden_dim=6)
    encoded, batch = _inputs()
    output = head(encoded, batch)
    assert output.logits.shape == (3, 3)
    torch.testing.assert_close(output.logits.exp().sum(-1), torch.ones(3))
    torch.testing.assert_close(head.probabilities(output), output.logits.exp())
    assert head.predict(output).tolist() == output.logits.argmax(-1).tolist()


def test_options_are_checked(registry: Registry) -> None:
    with pytest.raises(ConfigurationError, match="turns"):
        _san(registry, turns=0)
    with pytest.raises(ConfigurationError, match="step_dropout"):
        _san(registry, step_dropout=1.0)


def test_gradients_reach_every_parameter(registry: Registry) -> None:
    head = _san(registry, hidden_dim=6)
    encoded, batch = _inputs()
    loss = build(registry, Loss, {"type": "cross_entropy"}, path="loss")(head(encoded, batch), batch)
    loss.backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_padding_does_not_change_the_output(registry: Registry) -> None:
    head = _san(registry).eval()
    encoded, batch = _inputs()
    first = head(encoded, batch).logits
    noisy = encoded.hidden.clone()
    noisy[MASK == 0] = 1e4  # garbage in the padding
    second = head(EncoderOutput(hidden=noisy, mask=MASK, pooled=encoded.pooled), batch).logits
    torch.testing.assert_close(first, second)


def test_inference_is_deterministic_and_averages_every_step(registry: Registry) -> None:
    head = _san(registry, step_dropout=0.5).eval()
    encoded, batch = _inputs()
    torch.testing.assert_close(head(encoded, batch).logits, head(encoded, batch).logits)
    assert bool(head._kept_steps(4, torch.device("cpu")).all())


def test_step_dropout_always_keeps_at_least_one_step(registry: Registry) -> None:
    head = _san(registry, turns=5, step_dropout=0.99).train()
    encoded, batch = _inputs()
    dropped_some = False
    for seed in range(200):
        torch.manual_seed(seed)
        keep = head._kept_steps(16, torch.device("cpu"))
        assert bool((keep.sum(dim=1) >= 1).all())
        dropped_some |= bool((keep.sum(dim=1) < 5).any())
        if seed < 20:
            assert torch.isfinite(head(encoded, batch).logits).all()
    assert dropped_some


def test_runs_under_bf16_autocast_on_the_cpu(registry: Registry) -> None:
    head = _san(registry, hidden_dim=6)
    encoded, batch = _inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = EncoderOutput(encoded.hidden.bfloat16(), MASK, encoded.pooled.bfloat16())
        output = head(bf16, batch)
        loss = build(registry, Loss, "cross_entropy", path="loss")(output, batch)
    loss.backward()
    assert output.logits.dtype == torch.float32
    assert torch.isfinite(output.logits).all()


def test_segment_masks_from_token_types_and_from_the_separator() -> None:
    premise, hypothesis = segment_masks({"token_type_ids": TYPES}, MASK)
    assert premise.long().tolist() == [[1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0]]
    # A single sentence (row 3) uses its whole sequence for both memories.
    assert hypothesis.long().tolist() == [[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0]]
    # RoBERTa style: <s> a </s></s> b </s> <pad>, and a single <s> a </s>.
    ids = torch.tensor([[0, 5, 2, 2, 7, 2, 1], [0, 5, 6, 2, 1, 1, 1]])
    mask = (ids != 1).long()
    premise, hypothesis = segment_masks({"input_ids": ids, "attention_mask": mask}, mask)
    assert premise.long().tolist() == [[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0]]
    assert hypothesis.long().tolist() == [[0, 0, 0, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0, 0]]


def test_san_trains_rte_end_to_end(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {"rte": config["tasks"]["rte"]}
    config["tasks"]["rte"]["head"] = {"type": "san", "turns": 3}
    train(config, tmp_path / "run", registry)
    record = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert 0.0 <= record["dev"]["rte"]["accuracy"] <= 1.0
