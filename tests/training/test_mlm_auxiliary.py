"""Masked-LM as an auxiliary task in multi-task training (the MT-DNN toolkit's auxiliary objective)."""

from __future__ import annotations

from pathlib import Path

import torch

from mtdnn.api import train
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from tests.conftest import shipped_config


def test_the_auxiliary_masked_lm_task_trains_beside_the_glue_tasks(
    tmp_path: Path, repo_root: Path, family_dirs: dict[str, Path], registry: Registry
) -> None:
    config = shipped_config(
        repo_root / "configs" / "glue" / "multitask.jsonnet",
        tla_str={
            "data_root": str(repo_root / "data" / "quickstart"),
            "tasks": "rte,mrpc",
            "encoder": str(family_dirs["bert"]),
        },
        tla_code={"epochs": "1", "mlm_auxiliary": "true", "limits": "{rte: 64, mrpc: 64}"},
    )
    # the quickstart folders are named like the GLUE ones in lower case
    for name in ("rte", "mrpc"):
        for split in ("train", "dev"):
            config["tasks"][name][split] = str(repo_root / "data" / "quickstart" / name / f"{split}.tsv")
    config["trainer"]["progress_bar"] = False
    assert config["tasks"]["mlm"]["texts_from"] == ["rte", "mrpc"]
    initial = {
        k: v.clone() for k, v in build_experiment(config, registry).model().heads["mlm"].state_dict().items()
    }
    result = train(config, tmp_path / "run", registry)
    trained = result.model.heads["mlm"].state_dict()
    assert any(not torch.equal(trained[k].cpu(), v) for k, v in initial.items())  # mlm batches were trained
    assert set(result.state.best_metrics) == {"rte", "mrpc"}  # no dev file: never evaluated or selected on
