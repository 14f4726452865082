"""Run directories: loading a trained run, and starting a run from another one (multi-stage)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from mtdnn.api import train
from mtdnn.archive import initialize_from_run, load_run
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


@pytest.fixture(scope="module")
def multi_task_run(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> Path:
    from mtdnn.hooks import build_registry, get_plugin_manager

    run_dir = tmp_path_factory.mktemp("stage1") / "run"
    train(
        quickstart_config(repo_root, tiny_bert, epochs=1),
        run_dir,
        build_registry(get_plugin_manager(autoload=False)),
    )
    return run_dir


def test_a_second_stage_starts_from_the_first_stage_encoder_and_matching_heads(
    multi_task_run: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    tasks = config["tasks"]
    config["tasks"] = {
        "rte": tasks["rte"],  # same task and head: copied
        "mrpc": {**tasks["mrpc"], "head": {"type": "classification", "hidden_dim": 8}},  # other shape
        "sst2_again": tasks["sst2"],  # a task the first stage did not have
    }
    model = build_experiment(config, registry).model()
    report = initialize_from_run(model, multi_task_run)
    assert report.heads == ["rte"]
    assert set(report.skipped) == {"mrpc", "sst2_again"}
    assert "shape differs" in report.skipped["mrpc"]

    _, first = load_run(multi_task_run, registry)
    for (name, mine), (_, theirs) in zip(
        model.encoder.state_dict().items(), first.encoder.state_dict().items(), strict=True
    ):
        assert torch.equal(mine, theirs), name
    saved = load_file(str(multi_task_run / "model" / "heads.safetensors"))
    for name, value in model.heads["rte"].state_dict().items():
        assert torch.equal(value, saved[f"rte.{name}"])


def test_init_from_in_a_config_fine_tunes_a_single_task(
    multi_task_run: Path, tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {"rte": config["tasks"]["rte"]}
    config["init_from"] = str(multi_task_run)
    result = train(config, tmp_path / "stage2", registry)
    assert set(result.state.best_metrics) == {"rte"}
    config["init_from"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigurationError, match="has no trained model"):
        train(config, tmp_path / "stage2b", registry)
