"""Task settings: a separate training reader (subsampling) leaves the dev set whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtdnn.api.train import load_split
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


def test_train_reader_subsamples_training_data_only(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    rte = config["tasks"]["rte"]
    rte["train_reader"] = {"type": "subsample", "reader": rte["reader"], "count": 40, "seed": 3}
    config["tasks"] = {"rte": rte}
    experiment = build_experiment(config, registry)
    assert len(load_split(experiment, "train")["rte"]) == 40
    assert len(load_split(experiment, "dev")["rte"]) == 200  # evaluation stays on the full dev slice


def test_train_reader_must_have_the_same_labels(repo_root: Path, tiny_bert: Path, registry: Registry) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["train_reader"] = {"type": "glue", "task": "mnli"}
    with pytest.raises(ConfigurationError, match="train_reader has labels") as info:
        build_experiment(config, registry)
    assert info.value.path == "tasks.rte"
