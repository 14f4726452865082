"""mtdnn.dropout: cheaper CPU dropout masks with torch's distribution, and its place in a model."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from mtdnn import dropout as fast
from mtdnn.adversarial.perturbation import DropoutReplay
from mtdnn.api import train
from mtdnn.dropout import ATTENTION, Dropout, fast_dropout, use_fast_dropout
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.9])
def test_elements_are_kept_with_probability_one_minus_p_and_scaled_to_keep_the_mean(p: float) -> None:
    torch.manual_seed(1)
    ones = torch.ones(400, 1000)
    out = fast_dropout(ones, p)
    kept = out != 0
    size = ones.numel()
    assert abs(kept.sum().item() - size * (1 - p)) < 5 * math.sqrt(size * p * (1 - p))
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / (1 - p)), rtol=1e-4)
    assert abs(out.mean().item() - 1.0) < 5 * math.sqrt(p / (1 - p) / size)
    # each 64-bit draw serves four neighbours: every one of the four positions is kept as often
    for offset in range(4):
        share = kept.flatten()[offset::4].float().mean().item()
        assert abs(share - (1 - p)) < 5 * math.sqrt(p * (1 - p) / (size / 4))


def test_neighbouring_masks_are_independent() -> None:
    torch.manual_seed(2)
    kept = (fast_dropout(torch.ones(1_000_000), 0.5) != 0).float()
    for lag in (1, 2, 3, 4, 5):  # within one 64-bit draw, across draws
        both = (kept[:-lag] * kept[lag:]).mean().item()
        assert abs(both - 0.25) < 0.005, lag


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_the_gradient_passes_exactly_where_the_output_kept_the_input(dtype: torch.dtype) -> None:
    torch.manual_seed(3)
    tensor = torch.randn(64, 50, dtype=dtype, requires_grad=True)
    out = fast_dropout(tensor, 0.2)
    assert out.dtype == dtype
    # what the backward pass keeps: the bool mask, one byte per element
    assert [saved.dtype for saved in out.grad_fn.saved_tensors] == [torch.bool]  # type: ignore[union-attr]
    upstream = torch.randn_like(out)
    out.backward(upstream)
    assert tensor.grad is not None
    kept = out != 0
    scale = fast._threshold(0.2)[1]
    # exactly a product with the scale (in 16 bits too, where the scale itself would round)
    assert torch.equal(tensor.grad, torch.where(kept, upstream * scale, torch.zeros_like(upstream)))
    assert torch.equal(out, torch.where(kept, tensor.detach() * scale, torch.zeros_like(out)))


def test_masks_follow_torchs_generator_seed_and_replay() -> None:
    ones = torch.ones(10_000)
    torch.manual_seed(7)
    first = fast_dropout(ones, 0.1)
    torch.manual_seed(7)
    assert torch.equal(fast_dropout(ones, 0.1), first)
    replay = DropoutReplay(torch.device("cpu"))
    drawn = fast_dropout(ones, 0.1)
    with replay.replay():
        assert torch.equal(fast_dropout(ones, 0.1), drawn)
    assert not torch.equal(fast_dropout(ones, 0.1), drawn)


def test_evaluation_and_zero_probability_return_the_input_and_bf16_stays_bf16() -> None:
    tensor = torch.randn(8, 8)
    assert fast_dropout(tensor, 0.1, training=False) is tensor
    assert fast_dropout(tensor, 0.0) is tensor
    halves = fast_dropout(torch.ones(100, 100, dtype=torch.bfloat16), 0.1)
    assert halves.dtype == torch.bfloat16 and set(halves.unique().tolist()) == {0.0, 1.109375}
    layer = Dropout(0.25)
    assert isinstance(layer, nn.Dropout) and layer.p == 0.25
    layer.eval()
    assert layer(tensor) is tensor


def _bert(folder: Path) -> nn.Module:
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(folder), local_files_only=True)


def _inputs(vocabulary: int = 2000) -> dict[str, torch.Tensor]:
    ids = torch.randint(vocabulary // 2, vocabulary, (3, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0  # padding, so the attention mask takes part
    mask[2, 3:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def test_a_hugging_face_model_gets_the_masks_in_every_dropout_and_in_its_attention(
    tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    original = _bert(tiny_bert)
    model = copy.deepcopy(original)
    dropouts = sum(type(module) is nn.Dropout for module in model.modules())
    assert use_fast_dropout(model) == dropouts > 0
    assert not any(type(module) is nn.Dropout for module in model.modules())
    assert model.config._attn_implementation == ATTENTION
    inputs = _inputs()
    original.eval()
    model.eval()
    expected = original(**inputs).last_hidden_state
    assert torch.equal(model(**inputs).last_hidden_state, expected)  # evaluation: plain sdpa
    # training runs attention through mtdnn's own path: without the masks it is sdpa's result
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout):  # only the attention probabilities are dropped
            module.p = 0.1 if name.endswith("attention.self.dropout") else 0.0
    calls: list[float] = []

    def unmasked(tensor: torch.Tensor, p: float) -> tuple[torch.Tensor, float]:
        calls.append(p)
        return tensor, 1.0

    monkeypatch.setattr(fast, "_unscaled_dropout", unmasked)
    model.train()
    trained = model(**inputs).last_hidden_state
    assert [p for p in calls if p] == [0.1] * model.config.num_hidden_layers
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(trained[real], expected[real], rtol=1e-5, atol=1e-5)


def test_saving_a_switched_model_writes_no_trace_of_it(tiny_bert: Path, tmp_path: Path) -> None:
    model = _bert(tiny_bert)
    use_fast_dropout(model)
    model.save_pretrained(str(tmp_path))  # type: ignore[operator]
    assert ATTENTION not in (tmp_path / "config.json").read_text()
    assert _bert(tmp_path).config._attn_implementation == "sdpa"


@pytest.mark.parametrize("family", ["bert", "roberta", "distilbert", "electra", "deberta_v2", "mpnet"])
def test_every_encoder_family_trains_through_the_masks_and_evaluates_as_before(
    family: str, family_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    original = _bert(family_dirs[family]).eval()
    model = copy.deepcopy(original)
    use_fast_dropout(model)
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.1
    inputs = _inputs(model.config.vocab_size)
    expected = original(**inputs).last_hidden_state
    assert torch.equal(model.eval()(**inputs).last_hidden_state, expected)
    model.train()
    trained = model(**inputs).last_hidden_state
    trained.sum().backward()
    assert all(p.grad is None or bool(p.grad.isfinite().all()) for p in model.parameters())
    real = inputs["attention_mask"].bool()
    assert not torch.allclose(trained[real], expected[real], atol=1e-3)  # the masks were applied
    monkeypatch.setattr(fast, "fast_dropout", lambda tensor, p, training=True: tensor)
    monkeypatch.setattr(fast, "_unscaled_dropout", lambda tensor, p: (tensor, 1.0))
    torch.testing.assert_close(model(**inputs).last_hidden_state[real], expected[real], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fast_dropout", [True, False])
def test_the_trainer_uses_the_masks_unless_told_not_to(
    fast_dropout: bool,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    repo_root: Path,
    tiny_bert: Path,
    registry: Registry,
) -> None:
    drawn: list[int] = []
    forward = fast._FastDropout.forward

    def counting(ctx: Any, tensor: torch.Tensor, p: float, scaled: bool) -> torch.Tensor:
        drawn.append(tensor.numel())
        return forward(ctx, tensor, p, scaled)

    monkeypatch.setattr(fast._FastDropout, "forward", staticmethod(counting))
    config = quickstart_config(repo_root, tiny_bert, fast_dropout=fast_dropout)
    for task in config["tasks"].values():
        task["train_limit"] = 16
    train(config, tmp_path / "run", registry)
    assert bool(drawn) is fast_dropout
