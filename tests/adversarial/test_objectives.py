"""The adversarial objectives on real batches: exactness at zero, the ball, the ascent, the terms by hand."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.adversarial import FreeLbObjective, PgdObjective, ProximalObjective, SmartObjective
from mtdnn.adversarial.perturbation import DropoutReplay, masked_rms, norm_of, shift, token_mask
from mtdnn.api import dry_run, train
from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.objective import Objective, Step
from mtdnn.training.settings import TrainerSettings
from mtdnn.types import HeadOutput, TaskBatch
from tests.adversarial.test_every_head import _encoder, _setup
from tests.conftest import quickstart_config, shipped_config


def _step(registry: Registry, tiny_bert: Path, kind: str = "classification", encoder: str = "hf") -> Step:
    torch.manual_seed(0)
    model, task, data = _setup(registry, _encoder(encoder, tiny_bert), kind)
    batch = model.prepare(make_batch(data, range(len(data.examples)), model.encoder))
    return Step(model=model, module=model, batch=batch, task=task, total_steps=10)


@pytest.mark.parametrize("encoder", ["hf", "lstm"])
def test_a_zero_perturbation_gives_exactly_the_clean_outputs(
    registry: Registry, tiny_bert: Path, encoder: str
) -> None:
    step = _step(registry, tiny_bert, encoder=encoder)
    model = step.module
    zero = torch.zeros(
        *step.batch.inputs["input_ids"].shape, model.encoder.output_dim if encoder == "hf" else 16
    )
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(step.batch).logits, model(step.batch, perturb=shift(zero)).logits)
    model.train()  # dropout: equal only with the clean pass's masks replayed
    replay = DropoutReplay(torch.device("cpu"))
    clean = model(step.batch).logits
    with replay.replay():
        again = model(step.batch, perturb=shift(zero)).logits
    assert torch.equal(clean, again)
    assert not torch.equal(model(step.batch).logits, clean)  # fresh masks differ


def test_replay_leaves_the_generator_where_it_was(registry: Registry) -> None:
    torch.manual_seed(3)
    replay = DropoutReplay(torch.device("cpu"))
    first = torch.rand(4)
    with replay.replay():
        assert torch.equal(torch.rand(4), first)  # the same numbers again
    expected_next = torch.rand(4)
    torch.manual_seed(3)
    torch.rand(4)
    assert torch.equal(torch.rand(4), expected_next)


@pytest.mark.parametrize("norm", ["inf", "l2"])
@pytest.mark.parametrize("granularity", ["token", "sequence"])
def test_after_ascent_the_perturbation_is_inside_the_ball(
    registry: Registry, tiny_bert: Path, norm: str, granularity: str
) -> None:
    step = _step(registry, tiny_bert)
    step.module.eval()
    objective = SmartObjective(
        epsilon=0.05, sigma=0.5, step_size=1.0, steps=2, norm=norm, granularity=granularity
    )
    objective.setup(step.module, tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    mask = token_mask(step.batch.inputs)
    rms = float(masked_rms(step.module.encoder.embed(step.batch.inputs), mask))
    noise = torch.randn(*mask.shape, 32) * 0.5 * rms * mask.unsqueeze(-1)
    assert (
        float(norm_of(noise, mask, norm=norm, granularity=granularity).max()) > 0.05 * rms
    )  # starts outside
    with torch.no_grad():
        output = step.forward()
    delta = objective._ascend(step, output, noise, rms, None)
    sizes = norm_of(delta, mask, norm=norm, granularity=granularity)
    assert float(sizes.max()) <= 0.05 * rms * (1 + 1e-5)
    assert float(sizes.max()) >= 0.05 * rms * (1 - 1e-3)  # a step of 1 reaches the boundary
    assert torch.all(delta[~mask] == 0)


def _divergence_at(step: Step, clean: HeadOutput, delta: torch.Tensor) -> float:
    with torch.no_grad():
        return float(step.head.divergence(clean, step.forward(perturb=shift(delta)), step.batch))


def test_the_ascent_increases_the_divergence(registry: Registry, tiny_bert: Path) -> None:
    step = _step(registry, tiny_bert)
    step.module.eval()
    mask = token_mask(step.batch.inputs)
    rms = float(masked_rms(step.module.encoder.embed(step.batch.inputs), mask))
    with torch.no_grad():
        clean = step.forward()
    torch.manual_seed(1)
    noise = torch.randn(*mask.shape, 32) * 0.02 * rms * mask.unsqueeze(-1)
    for norm in ("inf", "l2"):
        objective = SmartObjective(epsilon=0.1, step_size=0.05, steps=1, norm=norm)  # type: ignore[arg-type]
        delta = objective._ascend(step, clean, noise.clone(), rms, None)
        at_noise, at_delta = _divergence_at(step, clean, noise), _divergence_at(step, clean, delta)
        assert at_delta > at_noise > 0, (norm, at_noise, at_delta)
        # and beats a random step of the same length
        random = noise + (delta - noise).flatten()[torch.randperm(delta.numel())].view_as(
            delta
        ) * mask.unsqueeze(-1)
        assert at_delta > _divergence_at(step, clean, random)


def test_the_regression_term_is_the_weighted_mean_squared_difference(
    registry: Registry, tiny_bert: Path
) -> None:
    step = _step(registry, tiny_bert, "regression")
    step.module.eval()
    objective = SmartObjective(sigma=0.1, steps=0, weight=3.0)
    objective.setup(step.module, tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    torch.manual_seed(7)
    result = objective(step)
    mask = token_mask(step.batch.inputs)
    embedded = step.module.encoder.embed(step.batch.inputs)
    rms = float(masked_rms(embedded, mask))
    torch.manual_seed(7)  # eval mode: the noise is the first draw
    noise = torch.randn(embedded.shape) * (0.1 * rms) * mask.unsqueeze(-1)
    with torch.no_grad():
        clean, perturbed = step.forward(), step.forward(perturb=shift(noise))
    assert clean.logits.shape == perturbed.logits.shape == (len(step.batch), 1)
    by_hand = ((clean.logits - perturbed.logits) ** 2).mean()
    assert result.scalars["smart_divergence"].shape == ()
    torch.testing.assert_close(result.scalars["smart_divergence"], by_hand)
    torch.testing.assert_close(result.loss.detach(), step.task_loss(clean) + 3.0 * by_hand)
    assert float(by_hand) > 0


def test_freelb_accumulates_the_sum_of_its_passes_gradients(registry: Registry, tiny_bert: Path) -> None:
    step = _step(registry, tiny_bert)
    model = step.module.eval()
    seen: list[torch.Tensor] = []

    def recording(batch: TaskBatch, *, perturb: Any = None) -> HeadOutput:
        seen.append(perturb(model.encoder.embed(batch.inputs)).detach())
        return model(batch, perturb=perturb)

    objective = FreeLbObjective(steps=3, step_size=0.5, init_magnitude=0.2)
    objective.setup(model, tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    result = objective(replace(step, model=recording))
    result.loss.backward()
    got = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    assert len(seen) == 3 and not torch.equal(seen[1], seen[2])  # the perturbation moved
    model.zero_grad()
    losses = []
    clean = model.encoder.embed(step.batch.inputs).detach()
    for embeddings in seen:  # each pass's loss / K at its own perturbation, by hand
        loss = step.task_loss(model(step.batch, perturb=shift(embeddings - clean))) / 3
        loss.backward()
        losses.append(float(loss.detach()))
    expected = [p.grad for p in model.parameters() if p.grad is not None]
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)
    assert float(result.loss.detach()) == pytest.approx(
        sum(losses), rel=1e-5
    )  # reported: the mean of the passes


def test_pgd_adds_the_adversarial_loss_and_stays_in_its_ball(registry: Registry, tiny_bert: Path) -> None:
    step = _step(registry, tiny_bert)
    step.module.eval()
    objective = PgdObjective(epsilon=0.3, step_size=0.2, steps=3, weight=0.5)
    objective.setup(step.module, tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    result = objective(step)
    with torch.no_grad():
        clean = step.task_loss(step.forward())
    torch.testing.assert_close(result.loss.detach(), clean + 0.5 * result.scalars["pgd_loss"])
    assert float(result.scalars["pgd_loss"]) > float(clean)  # the attack raised the loss
    # A linear loss: every step goes the same way, the third leaves the ball and is scaled back.
    target = torch.randn(5, 32)
    rows = objective._attack(step, target, lambda r: (r * target).sum())
    assert float(rows.norm()) == pytest.approx(0.3, rel=1e-5)
    torch.testing.assert_close(rows / rows.norm(), target / target.norm())


def test_the_proximal_term_is_zero_at_the_start_and_grows_as_the_model_moves(
    registry: Registry, tiny_bert: Path
) -> None:
    step = _step(registry, tiny_bert)
    model = step.module.train()  # dropout on: the EMA copy gets the same masks
    objective = ProximalObjective(mu=1.0, beta_early=0.5, beta=0.9, early=0.5)
    objective.setup(model, tasks={"t": step.task}, total_steps=10)  # type: ignore[arg-type]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []
    for number in range(4):
        result = objective(replace(step, global_step=number))
        seen.append(float(result.scalars["proximal_divergence"]))
        result.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        objective.on_step_end(model, global_step=number + 1, total_steps=10)
    assert seen[0] == 0.0
    assert 0 < seen[1] < seen[3], seen
    assert [objective.beta_at(s, 10) for s in (1, 5, 6)] == [0.5, 0.5, 0.9]
    ema = objective.modules()["ema"]
    assert all(not p.requires_grad for p in ema.parameters())
    assert {id(p) for p in ema.parameters()}.isdisjoint(id(p) for p in model.parameters())


def test_options_are_checked_with_their_config_path(registry: Registry, tiny_bert: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        build(registry, TrainerSettings, {"objective": {"type": "smart", "epsilon": -1}}, path="trainer")
    assert info.value.path == "trainer.objective.epsilon"
    with pytest.raises(ConfigurationError, match="did you mean 'freelb'"):
        build(registry, TrainerSettings, {"objective": {"type": "freelbb"}}, path="trainer")
    step = _step(registry, tiny_bert)
    objective = build(registry, Objective, {"type": "smart", "tasks": ["rte"]}, path="trainer.objective")
    with pytest.raises(ConfigurationError, match=r"not trained: \['rte'\]") as info:
        objective.setup(step.module, tasks={"t": step.task}, total_steps=1)
    assert info.value.path == "trainer.objective.tasks"


def test_only_the_chosen_tasks_are_perturbed_with_their_weights(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    objective = {"type": "smart", "tasks": ["rte", "mrpc"], "task_weights": {"mrpc": 0.0}}
    config = quickstart_config(repo_root, tiny_bert, epochs=1, objective=objective)
    built = build_experiment(config, registry)
    smart = built.trainer.objective
    assert isinstance(smart, SmartObjective)
    smart.setup(built.model(), tasks=built.tasks, total_steps=1)
    assert [smart.weight_for(t) for t in ("rte", "mrpc", "sst2")] == [1.0, 0.0, None]
    result = train(config, tmp_path / "run", registry)
    [record] = RunDirectory(tmp_path / "run").read_records()
    assert {"smart_divergence", "smart_delta_rms", "embedding_rms"} <= set(record["train"])
    # the default ball: every element within 1e-5 x the batch's embedding RMS
    assert 0 < record["train"]["smart_delta_rms"] <= 1e-5 * record["train"]["embedding_rms"] * 1.001
    assert result.state.global_step > 0


def test_the_adversarial_config_passes_dry_run(
    repo_root: Path, registry: Registry, shared_data: Path
) -> None:
    config = shipped_config(
        repo_root / "configs" / "glue" / "adversarial.jsonnet",
        tla_str={"data_root": str(shared_data)},
    )
    assert config["trainer"]["objective"]["type"] == "smart"
    dry_run(config, registry)


def test_the_ema_copy_is_a_separate_module(registry: Registry, tiny_bert: Path) -> None:
    step = _step(registry, tiny_bert)
    objective = ProximalObjective()
    objective.setup(step.module, tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    ema = objective.modules()["ema"]
    assert isinstance(ema, MultiTaskModel)
    state = objective.state_dict()
    assert set(state) == {f"ema.{key}" for key in step.module.state_dict()}
    other = ProximalObjective()
    other.setup(copy.deepcopy(step.module), tasks={"t": step.task}, total_steps=1)  # type: ignore[arg-type]
    other.load_state_dict(state)
    assert all(torch.equal(other.state_dict()[key], value) for key, value in state.items())
