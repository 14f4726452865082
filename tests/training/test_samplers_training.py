"""Training with a sampler whose plans outrun the data: task streams wrap, and resume stays exact."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest
import torch

from mtdnn.api import train
from mtdnn.registry import Registry
from mtdnn.samplers import TemperatureSampler
from mtdnn.training.checkpoint import latest_checkpoint
from tests.conftest import quickstart_config
from tests.training.resume_helpers import Crash, evaluations, final_weights

# The quickstart's 600 SST-2, 400 MRPC and 400 RTE examples in batches of 32.
BATCHES = {"sst2": math.ceil(600 / 32), "mrpc": math.ceil(400 / 32), "rte": math.ceil(400 / 32)}
STEPS = 60  # per epoch, more than the 45 batches of one pass over the data


def test_temperature_sampling_past_the_data_trains_and_resumes_exactly(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(
        repo_root, tiny_bert, epochs=2, checkpoint_every=10, keep_checkpoints=3, keep_checkpoints_at_end=True
    )
    config["sampler"] = {"type": "temperature", "alpha": 0.75, "steps": STEPS}
    # The second epoch's plan asks every task for more batches than it has, and by its 50th step
    # (the step-110 checkpoint the interrupted run resumes from) some streams are in their
    # second round, so resuming must rebuild reshuffled rounds from the cursors.
    plan = TemperatureSampler(steps=STEPS).plan(BATCHES, epoch=1, seed=config["seed"], total_epochs=2)
    assert all(Counter(plan)[task] > count for task, count in BATCHES.items())
    assert any(Counter(plan[:50])[task] > count for task, count in BATCHES.items())

    straight = tmp_path / "straight"
    result = train(config, straight, registry)
    assert result.state.global_step == result.state.total_steps == 2 * STEPS

    interrupted = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, registry, callbacks=[Crash(at_step=115)])
    last = latest_checkpoint(interrupted / "checkpoints")
    assert last is not None and last.name == "step_000000110"
    resumed = train(config, interrupted, registry, resume=True)

    assert resumed.state.global_step == 2 * STEPS
    expected, actual = final_weights(straight), final_weights(interrupted)
    assert expected.keys() == actual.keys()
    assert [name for name in expected if not torch.equal(expected[name], actual[name])] == []
    assert evaluations(interrupted) == evaluations(straight)


def test_total_steps_follow_the_plans_and_accumulation(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(
        repo_root, tiny_bert, epochs=2, accumulation_steps=7, keep_checkpoints_at_end=True
    )
    config["sampler"] = {"type": "main_aux", "main": "rte", "ratio": 0.5}
    config["trainer"]["scheduler"] = {"type": "linear", "warmup": 0}
    # 13 RTE batches + round(6.5) = 7 auxiliary ones = 20 mini-batches -> ceil(20 / 7) = 3 steps.
    result = train(config, tmp_path / "run", registry)
    assert result.state.total_steps == result.state.global_step == 2 * 3
    checkpoint = latest_checkpoint(tmp_path / "run" / "checkpoints")
    assert checkpoint is not None
    training = torch.load(checkpoint / "training.pt", weights_only=True)
    assert training["scheduler"]["last_epoch"] == 6
    assert training["optimizer"]["param_groups"][0]["lr"] == 0.0  # decayed to 0 exactly at the end
