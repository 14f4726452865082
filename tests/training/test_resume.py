"""An interrupted run resumed with --resume ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtdnn.api import train
from mtdnn.registry import Registry
from mtdnn.training.checkpoint import latest_checkpoint
from tests.conftest import quickstart_config
from tests.training.resume_helpers import Crash, evaluations, final_weights


def test_resume_after_interruption_matches_uninterrupted_run(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    # 600 + 400 + 400 examples in batches of 32 -> 45 steps per epoch; checkpoints every 10 steps.
    config = quickstart_config(
        repo_root, tiny_bert, epochs=2, checkpoint_every=10, keep_checkpoints=3, keep_checkpoints_at_end=True
    )
    straight = tmp_path / "straight"
    train(config, straight, registry)

    interrupted = tmp_path / "interrupted"
    # Step 57 is in epoch 2, seven steps after the step-50 checkpoint: those steps are lost.
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, registry, callbacks=[Crash(at_step=57)])
    last = latest_checkpoint(interrupted / "checkpoints")
    assert last is not None and last.name == "step_000000050"
    assert len(evaluations(interrupted)) == 1  # epoch 1 was evaluated before the crash

    result = train(config, interrupted, registry, resume=True)

    assert result.state.global_step == 90
    expected, actual = final_weights(straight), final_weights(interrupted)
    assert expected.keys() == actual.keys()
    changed = [name for name in expected if not torch.equal(expected[name], actual[name])]
    assert changed == []
    assert (
        load_file(str(straight / "model" / "heads.safetensors")).keys()
        == load_file(str(interrupted / "model" / "heads.safetensors")).keys()
    )
    assert evaluations(interrupted) == evaluations(straight)


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
    with pytest.raises(ConfigurationError, match=r"finished .* checkpoints were removed at the end"):
        train(config, run_dir, registry, resume=True)
    kept = quickstart_config(repo_root, tiny_bert, epochs=1, keep_checkpoints_at_end=True)
    train(kept, tmp_path / "kept", registry)
    changed = quickstart_config(repo_root, tiny_bert, epochs=2, keep_checkpoints_at_end=True)
    with pytest.raises(ConfigurationError, match="config differs"):
        train(changed, tmp_path / "kept", registry, resume=True)
