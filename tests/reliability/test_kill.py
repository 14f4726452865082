"""A real ``mtdnn train`` killed by SIGKILL at several moments resumes to bit-identical weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.rundir import CHECKSUMS, RunDirectory
from tests.conftest import quickstart_config
from tests.training.resume_helpers import evaluations, final_weights

WORKER = Path(__file__).with_name("crash_worker.py")


def _train(config: Path, run: Path, *, when: str = "none", count: int = 0, resume: bool = False) -> int:
    """Run the worker in a fresh process (one thread, so every run computes the same sums)."""
    command = [sys.executable, str(WORKER), when, str(count), "--", "train", str(config), "-s", str(run)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(WORKER.parents[2])}
    done = subprocess.run(
        [*command, *(["--resume"] if resume else [])], env=environment, capture_output=True, text=True
    )
    return done.returncode


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    """SST-2, 64 examples in batches of 16 for 2 epochs: 8 steps, a checkpoint every 2."""
    settings: dict[str, Any] = quickstart_config(
        repo_root, tiny_bert, epochs=2, checkpoint_every=2, keep_checkpoints=3, keep_checkpoints_at_end=True
    )
    settings["tasks"] = {"sst2": {**settings["tasks"]["sst2"], "train_limit": 64, "batch_size": 16}}
    path = tmp_path_factory.mktemp("kill") / "config.json"
    path.write_text(json.dumps(settings))
    return path


@pytest.fixture(scope="module")
def straight(config: Path) -> Path:
    run = config.parent / "straight"
    assert _train(config, run) == 0
    return run


@pytest.mark.slow
@pytest.mark.parametrize(
    ("when", "count"),
    [("step", 7), ("checkpoint", 3), ("model", 1)],
    ids=["mid-epoch", "during-a-checkpoint-write", "during-the-best-model-write"],
)
def test_a_killed_run_resumes_to_the_same_weights_and_records(
    config: Path, straight: Path, when: str, count: int
) -> None:
    run = config.parent / f"killed-{when}"
    assert _train(config, run, when=when, count=count) == -signal.SIGKILL
    assert _train(config, run, resume=True) == 0
    expected, actual = final_weights(straight), final_weights(run)
    assert [name for name in expected if not torch.equal(expected[name], actual[name])] == []
    assert evaluations(run) == evaluations(straight)
    files = RunDirectory(run)
    best, reference = (json.loads((RunDirectory(r).model / CHECKSUMS).read_text()) for r in (run, straight))
    assert best["sha256"] == reference["sha256"]  # the same best model, file for file
    entries = [*files.checkpoints.iterdir(), *run.iterdir()]
    assert [path.name for path in entries if path.suffix in (".tmp", ".old")] == []
