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


def test_a_configured_label_list_sets_the_ids_and_must_cover_the_gold_labels(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    from mtdnn.errors import DataError

    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"] = {"rte": config["tasks"]["rte"]}
    config["tasks"]["rte"]["labels"] = ["not_entailment", "entailment"]
    experiment = build_experiment(config, registry)
    task = experiment.tasks["rte"]
    assert task.labels == ["not_entailment", "entailment"]
    dev = task.load("dev", experiment.encoder)
    assert dev.targets is not None
    for example, target in zip(dev.examples, dev.targets, strict=True):
        assert task.labels[int(target)] == example.label
    config["tasks"]["rte"]["labels"] = ["entailment", "contradiction"]
    experiment = build_experiment(config, registry)
    with pytest.raises(DataError, match="'not_entailment'"):
        experiment.tasks["rte"].load("dev", experiment.encoder)
    config["tasks"]["rte"]["labels"] = ["a", "a"]
    with pytest.raises(ConfigurationError, match="duplicates"):
        build_experiment(config, registry)
