"""The top level of a config is a typed signature, and every error names its full config path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mtdnn.api import dry_run
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import ExperimentConfig, build_experiment
from mtdnn.registry import Registry
from tests.conftest import quickstart_config


def _error(config: dict[str, object], registry: Registry) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        build_experiment(config, registry)
    return info.value


def test_the_top_level_keys_are_the_signature(repo_root: Path, tiny_bert: Path, registry: Registry) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    error = _error({**config, "trainr": {}}, registry)
    assert error.path == "trainr" and error.message == "unknown top-level key 'trainr'"
    assert error.hint is not None and error.hint.startswith("did you mean 'trainer'?")
    for key in ("encoder", "tasks", "sampler", "trainer", "seed", "init_from"):
        assert f"{key}: " in error.hint  # the accepted keys come from ExperimentConfig's signature
    missing = _error({"tasks": config["tasks"]}, registry)
    assert missing.message == "missing required top-level key 'encoder'"
    assert _error({**config, "seed": "7"}, registry).path == "seed"
    assert _error({**config, "tasks": {}}, registry).path == "tasks"
    assert _error({**config, "tasks": {"rte": 3}}, registry).path == "tasks.rte"
    assert _error({**config, "init_from": 5}, registry).path == "init_from"


def test_a_constructors_error_names_where_the_component_sits(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["loss"] = {"type": "cross_entropy", "label_smoothing": 1.5}
    error = _error(config, registry)
    assert str(error) == "tasks.rte.loss.label_smoothing: label_smoothing must be in [0, 1), got 1.5"

    config = quickstart_config(repo_root, tiny_bert)
    config["tasks"]["rte"]["head"] = {"type": "span", "dropout": 1.0}
    assert _error(config, registry).path == "tasks.rte.head.dropout"
    config["tasks"]["rte"]["head"] = {"type": "san", "turns": 0}
    assert _error(config, registry).path == "tasks.rte.head.turns"
    config["tasks"]["rte"]["head"] = {"type": "regression", "normalize": [5, 0]}
    assert _error(config, registry).path == "tasks.rte.head"  # 2 labels: the head as a whole
    config = quickstart_config(repo_root, tiny_bert, callbacks=[{"type": "early_stopping", "patience": 0}])
    assert _error(config, registry).path == "trainer.callbacks[0].patience"
    config = quickstart_config(repo_root, tiny_bert, epochs=1, optimizer={"type": "adamw", "lr": -1})
    assert _error(config, registry).path == "trainer.optimizer.lr"


def test_a_negative_warmup_fails_the_dry_run(repo_root: Path, tiny_bert: Path, registry: Registry) -> None:
    config = quickstart_config(repo_root, tiny_bert, scheduler={"type": "linear", "warmup": -0.1})
    with pytest.raises(ConfigurationError) as info:
        dry_run(config, registry)
    assert info.value.path == "trainer.scheduler.warmup"


def test_no_constructor_spells_the_path_of_where_it_sits(repo_root: Path) -> None:
    # A component does not know where it sits in a config: it names its own keys and build() adds
    # the rest. Absolute paths are for code that runs outside build() (devices, validation metric).
    pattern = re.compile(r'path=f?"(head|loss|reader|sampler|metric|callback|objective)[."]')
    outside_build = {"mtdnn/samplers/main_aux.py"}  # checks its main task when it plans, at run time
    offenders = [
        f"{path.relative_to(repo_root)}:{number}: {line.strip()}"
        for root in ("mtdnn", "bio/mtdnn_bio")
        for path in sorted((repo_root / root).rglob("*.py"))
        if str(path.relative_to(repo_root)) not in outside_build
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_the_experiment_config_defaults(registry: Registry) -> None:
    root = ExperimentConfig(encoder="x", tasks={"t": object()})  # type: ignore[dict-item]
    assert root.seed == 13 and root.init_from is None
    assert type(root.sampler).__name__ == "ShuffleAllSampler"
    assert type(root.trainer.objective).__name__ == "TaskLossObjective"
