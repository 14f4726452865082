"""A real multi-task learning test: classification, regression and paraphrase heads learn together."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.api import train
from mtdnn.registry import Registry
from tests.conftest import shipped_config


@pytest.mark.slow
def test_minilm_learns_sst2_stsb_and_mrpc_together(
    tmp_path: Path, repo_root: Path, shared_data: Path, minilm_dir: Path, registry: Registry
) -> None:
    config = shipped_config(
        repo_root / "configs" / "glue" / "multitask.jsonnet",
        tla_str={"tasks": "sst2,stsb,mrpc", "data_root": str(shared_data)},
        tla_code={"limits": "{sst2: 2000, stsb: 2000, mrpc: 2000}", "epochs": "2"},
    )
    config["trainer"]["progress_bar"] = False
    result = train(config, tmp_path / "run", registry)

    # Scored on the full real dev sets (872 / 1500 / 408). Measured once: 0.817, 0.781, 0.748.
    best = result.state.best_metrics
    assert best["sst2"]["accuracy"] >= 0.75  # majority class: 0.509
    assert best["stsb"]["pearson"] >= 0.5  # a constant prediction has no correlation
    assert best["mrpc"]["accuracy"] >= 0.72  # majority class: 0.684
    assert best["mrpc"]["f1"] > 0.8122  # the F1 of always predicting "paraphrase"
