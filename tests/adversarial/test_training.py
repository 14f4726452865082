"""Adversarial objectives in the trainer: resume, data-parallel ranks, bf16, gradient accumulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from mtdnn.api import train
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.checkpoint import latest_checkpoint
from tests.conftest import quickstart_config
from tests.training.resume_helpers import Crash, evaluations, final_weights
from tests.training.test_distributed import _torchrun

SMART_PROXIMAL = {
    "type": "proximal",
    "mu": 1.0,
    "beta_early": 0.9,
    "inner": {"type": "smart", "epsilon": 1e-3},
}


def _rte(repo_root: Path, tiny_bert: Path, limit: int, **trainer: Any) -> dict[str, Any]:
    config = quickstart_config(repo_root, tiny_bert, **trainer)
    config["tasks"] = {"rte": {**config["tasks"]["rte"], "train_limit": limit}}
    return config


def test_smart_with_its_proximal_term_resumes_bit_exactly(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    # 10 batches per epoch, 2 epochs, a checkpoint every 4 steps: the crash at step 11 loses three
    # steps, which the resumed run redoes from the EMA copy, weights and generators of step 8.
    config = _rte(
        repo_root,
        tiny_bert,
        320,
        epochs=2,
        checkpoint_every=4,
        keep_checkpoints=2,
        keep_checkpoints_at_end=True,
    )
    config["trainer"]["objective"] = SMART_PROXIMAL
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train(config, straight, registry)
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, registry, callbacks=[Crash(at_step=11)])
    train(config, interrupted, registry, resume=True)
    weights = final_weights(straight)
    assert all(torch.equal(weights[key], value) for key, value in final_weights(interrupted).items())
    ema = [
        load_file(str(latest_checkpoint(RunDirectory(path).checkpoints) / "objective.safetensors"))  # type: ignore[operator]
        for path in (straight, interrupted)
    ]
    assert ema[0].keys() == ema[1].keys() and all(torch.equal(ema[0][k], ema[1][k]) for k in ema[0])
    assert not torch.equal(
        ema[0]["ema.heads.rte.classifier.0.weight"], weights["heads.rte.classifier.0.weight"]
    )
    records = evaluations(interrupted)
    assert records == evaluations(straight)
    assert set(records[-1]["train"]) == {
        "loss",
        "smart_divergence",
        "smart_delta_rms",
        "embedding_rms",
        "proximal_divergence",
    }
    assert records[-1]["train"]["proximal_divergence"] > 0


@pytest.mark.parametrize("objective", [SMART_PROXIMAL, {"type": "freelb", "steps": 2}])
def test_two_gloo_ranks_end_with_identical_weights(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, objective: dict[str, Any]
) -> None:
    config = _rte(repo_root, tiny_bert, 128, epochs=1, objective=objective)
    ranks, run_dir = _torchrun(tmp_path, repo_root, config)
    assert [r["steps"] for r in ranks] == [2, 2]  # 4 batches of 32, one per rank and step
    assert ranks[0]["sha256"] == ranks[1]["sha256"]
    [line] = (run_dir / "metrics.jsonl").read_text().splitlines()
    train_values = json.loads(line)["train"]
    assert train_values["embedding_rms"] > 0


def test_bf16_autocast_and_gradient_accumulation(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    objective = {"type": "freelb", "steps": 2, "inner": {"type": "smart", "epsilon": 1e-3}}
    config = _rte(
        repo_root, tiny_bert, 64, epochs=1, objective=objective, precision="bf16", accumulation_steps=2
    )
    result = train(config, tmp_path / "run", registry)
    assert result.state.global_step == 1  # two batches of 32 per step
    [record] = RunDirectory(tmp_path / "run").read_records()
    assert record["precision"] == "bf16"
    values = record["train"]
    assert {"smart_divergence", "freelb_delta_rms"} <= set(values)
    assert all(value == value and abs(value) < 1e6 for value in values.values())  # finite
    assert all(torch.isfinite(t).all() for t in result.model.state_dict().values() if t.is_floating_point())


@pytest.mark.parametrize("update", ["project", "renormalize"])
def test_auto_precision_keeps_smarts_tiny_perturbations_in_fp32(
    update: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    repo_root: Path,
    tiny_bert: Path,
    registry: Registry,
) -> None:
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)  # as on a CPU with it
    objective = {"type": "proximal", "inner": {"type": "smart", "update": update}}
    config = _rte(repo_root, tiny_bert, 32, epochs=1, objective=objective, progress_bar=True)
    train(config, tmp_path / "run", registry)
    [record] = RunDirectory(tmp_path / "run").read_records()
    projected = update == "project"
    assert record["precision"] == ("fp32" if projected else "bf16")
    reason = "smart moves the embeddings by at most 1e-05 x their RMS, far less than bf16 rounds away"
    assert (f"precision fp32 (auto: {reason})" in capsys.readouterr().err) is projected
    config = _rte(repo_root, tiny_bert, 32, epochs=1, objective=objective, precision="bf16")
    with caplog.at_level("WARNING"):
        train(config, tmp_path / "explicit", registry)
    assert (f"precision bf16: {reason}" in caplog.text) is projected
    assert RunDirectory(tmp_path / "explicit").read_records()[0]["precision"] == "bf16"
