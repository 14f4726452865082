"""An interrupted run resumed with --resume ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtdnn.api import train
from mtdnn.registry import Registry
from mtdnn.training.callbacks import Callback
from mtdnn.training.checkpoint import latest_checkpoint
from mtdnn.training.state import TrainerControl, TrainerState
from tests.conftest import quickstart_config


class Crash(Callback):
    """Simulates a killed process: raises after a given optimizer step."""

    def __init__(self, at_step: int) -> None:
        self.at_step = at_step

    def on_step_end(self, state: TrainerState, control: TrainerControl) -> None:
        if state.global_step == self.at_step:
            raise KeyboardInterrupt(f"simulated interruption at step {self.at_step}")


def _evaluations(run_dir: Path) -> list[dict[str, object]]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "eval_seconds"} for line in lines]


def _final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint = latest_checkpoint(run_dir / "checkpoints")
    assert checkpoint is not None
    return load_file(str(checkpoint / "model.safetensors"))


def test_resume_after_interruption_matches_uninterrupted_run(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    # 600 + 400 + 400 examples in batches of 32 -> 45 steps per epoch; checkpoints every 10 steps.
    config = quickstart_config(repo_root, tiny_bert, epochs=2, checkpoint_every=10, keep_checkpoints=3)
    straight = tmp_path / "straight"
    train(config, straight, registry)

    interrupted = tmp_path / "interrupted"
    # Step 57 is in epoch 2, seven steps after the step-50 checkpoint: those steps are lost.
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, registry, callbacks=[Crash(at_step=57)])
    last = latest_checkpoint(interrupted / "checkpoints")
    assert last is not None and last.name == "step_000000050"
    assert len(_evaluations(interrupted)) == 1  # epoch 1 was evaluated before the crash

    result = train(config, interrupted, registry, resume=True)

    assert result.state.global_step == 90
    expected, actual = _final_weights(straight), _final_weights(interrupted)
    assert expected.keys() == actual.keys()
    changed = [name for name in expected if not torch.equal(expected[name], actual[name])]
    assert changed == []
    assert (
        load_file(str(straight / "model" / "heads.safetensors")).keys()
        == load_file(str(interrupted / "model" / "heads.safetensors")).keys()
    )
    assert _evaluations(interrupted) == _evaluations(straight)


def test_resume_without_checkpoint_or_with_other_config_is_refused(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    from mtdnn.errors import ConfigurationError

    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    with pytest.raises(ConfigurationError, match="holds no run"):
        train(config, tmp_path / "nothing", registry, resume=True)
    run_dir = tmp_path / "run"
    train(config, run_dir, registry)
    with pytest.raises(ConfigurationError, match="not empty"):
        train(config, run_dir, registry)
    changed = quickstart_config(repo_root, tiny_bert, epochs=2)
    with pytest.raises(ConfigurationError, match="config differs"):
        train(changed, run_dir, registry, resume=True)
