"""Data-parallel training through torchrun on the CPU (gloo): ranks stay in sync and split the data."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import quickstart_config


def _torchrun(tmp_path: Path, repo_root: Path, config: dict[str, Any]) -> tuple[list[dict[str, Any]], Path]:
    """Train ``config`` on two gloo ranks; return each rank's report and the run directory."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    run_dir, reports = tmp_path / "run", tmp_path / "reports"
    reports.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "OMP_NUM_THREADS": "1",
        "MTDNN_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(repo_root / "tests" / "training" / "ddp_worker.py"), str(config_path), str(run_dir), str(reports),
    ]  # fmt: skip
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return [json.loads((reports / f"rank{rank}.json").read_text()) for rank in (0, 1)], run_dir


def test_two_gloo_ranks_train_identical_weights_on_half_the_steps(
    tmp_path: Path, repo_root: Path, tiny_bert: Path
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, keep_checkpoints_at_end=True)
    ranks, run_dir = _torchrun(tmp_path, repo_root, config)
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert ranks[0]["sha256"] == ranks[1]["sha256"]  # gradients were averaged at every step
    # Each step takes one batch per rank: ceil(batches / 2) steps per task (600, 400, 400 examples / 32).
    expected = sum(math.ceil(math.ceil(n / 32) / 2) for n in (600, 400, 400))
    assert [r["steps"] for r in ranks] == [expected, expected]
    [line] = (run_dir / "metrics.jsonl").read_text().splitlines()  # written once, by rank 0
    assert json.loads(line)["world_size"] == 2
    # Evaluation is split too: each rank ran half of the dev batches (200 examples per task in
    # batches of 64: 4 per task), and every rank got the scores of the whole dev set.
    assert [r["eval_batches"] for r in ranks] == [6, 6]
    assert ranks[0]["dev_split"] == ranks[1]["dev_split"] == ranks[0]["dev_alone"]
    assert json.loads(line)["dev"] == ranks[0]["dev_alone"]
    assert (run_dir / "model" / "heads.safetensors").is_file()
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == [f"step_{expected:09d}"]


def test_an_objective_with_two_forward_passes_keeps_the_ranks_in_sync(
    tmp_path: Path, repo_root: Path, tiny_bert: Path
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, objective={"type": "r_drop", "alpha": 1.0})
    config["tasks"] = {"rte": {**config["tasks"]["rte"], "train_limit": 128}}
    ranks, run_dir = _torchrun(tmp_path, repo_root, config)
    assert [r["steps"] for r in ranks] == [2, 2]  # 4 batches of 32, one per rank and step
    assert ranks[0]["sha256"] == ranks[1]["sha256"]  # both passes' gradients were averaged
    [line] = (run_dir / "metrics.jsonl").read_text().splitlines()
    train = json.loads(line)["train"]  # averaged over both ranks
    assert set(train) == {"loss", "r_drop_divergence"} and train["r_drop_divergence"] > 0
