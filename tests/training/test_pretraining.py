"""Masked-LM pre-training from scratch on shipped text, then fine-tuning through the normal path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModel

from mtdnn.api import load_config, train
from mtdnn.api.train import load_split
from mtdnn.cli import make_cli
from mtdnn.experiment import build_experiment
from mtdnn.hooks import get_plugin_manager
from mtdnn.registry import Registry
from mtdnn.training.evaluation import evaluate_task
from tests.conftest import quickstart_config


@pytest.mark.slow
def test_pretraining_from_scratch_lowers_held_out_mlm_loss_and_the_encoder_fine_tunes(
    tmp_path: Path, repo_root: Path, family_dirs: dict[str, Path], registry: Registry
) -> None:
    # a tiny BERT (2 layers, hidden 32, a 1,000-piece WordPiece vocabulary trained on the shipped text)
    # learns from 2,179 training sentences and is scored on the 1,000 held-out dev sentences
    text = repo_root / "data" / "quickstart" / "text"
    tlas = {
        "tla_str": {
            "train": str(text / "train.txt"),
            "dev": str(text / "dev.txt"),
            "encoder": str(family_dirs["bert"]),
        },
        "tla_code": {"random_init": "true", "epochs": "6", "lr": "0.002", "batch_size": "16"},
    }
    config = load_config(
        repo_root / "configs" / "pretrain" / "mlm.jsonnet", get_plugin_manager(autoload=False), **tlas
    )
    experiment = build_experiment(config, registry)  # the same seed builds the same initial weights
    dev = load_split(experiment, "dev")["mlm"]
    start = evaluate_task(experiment.model(), experiment.tasks["mlm"], dev, device=torch.device("cpu"))

    run_dir = tmp_path / "mlm"
    arguments = ["pretrain", str(repo_root / "configs" / "pretrain" / "mlm.jsonnet"), "-s", str(run_dir)]
    for option, values in (("-A", tlas["tla_str"]), ("--tla-code", tlas["tla_code"])):
        for name, value in values.items():
            arguments += [option, f"{name}={value}"]
    result = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)), arguments, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"pre-trained encoder (Hugging Face form): {run_dir / 'model' / 'encoder'}" in result.output
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    end = records[-1]["dev"]["mlm"]
    # random initial logits give about ln(1000) = 6.9 nats; measured here: 6.9 -> 5.9 after 6 epochs
    assert start["loss"] > 6.5
    assert end["loss"] < start["loss"] - 0.7  # held-out perplexity at least halved
    assert end["accuracy"] > start["accuracy"]

    # fine-tune the pre-trained encoder on SST-2 through the normal training path
    encoder_dir = run_dir / "model" / "encoder"
    tuned = quickstart_config(repo_root, encoder_dir, epochs=1)
    tuned["tasks"] = {"sst2": tuned["tasks"]["sst2"]}
    fine_tune = build_experiment(tuned, registry)
    pretrained = AutoModel.from_pretrained(str(encoder_dir)).state_dict()
    for name, tensor in fine_tune.encoder.model.state_dict().items():  # type: ignore[attr-defined]
        assert torch.equal(tensor, pretrained[name]), name
    outcome = train(tuned, tmp_path / "sst2", registry)
    assert "accuracy" in outcome.state.best_metrics["sst2"]


def test_pretrain_refuses_a_config_without_a_masked_lm_task(tmp_path: Path, repo_root: Path) -> None:
    arguments = ["pretrain", str(repo_root / "configs" / "quickstart.jsonnet"), "-s", str(tmp_path / "run")]
    result = CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), arguments)
    assert result.exit_code != 0
    assert "pre-training needs a masked-LM task" in result.output
    assert not (tmp_path / "run").exists()
