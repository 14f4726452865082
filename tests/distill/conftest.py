"""Teacher runs shared by the distillation tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mtdnn.api import train
from mtdnn.hooks import build_registry, get_plugin_manager
from tests.conftest import quickstart_config


def student_config(repo_root: Path, tiny_bert: Path, *, limit: int = 64, **trainer: Any) -> dict[str, Any]:
    """The quickstart config (tiny BERT, one epoch) with ``limit`` training examples of RTE and SST-2."""
    config = quickstart_config(repo_root, tiny_bert, epochs=1, **trainer)
    config["tasks"] = {name: {**config["tasks"][name], "train_limit": limit} for name in ("rte", "sst2")}
    return config


@pytest.fixture(scope="session")
def teachers(tmp_path_factory: pytest.TempPathFactory, repo_root: Path, tiny_bert: Path) -> list[Path]:
    """Two multi-task teacher runs (RTE and SST-2, 64 examples each) of different seeds."""
    registry = build_registry(get_plugin_manager(autoload=False))
    folder = tmp_path_factory.mktemp("teachers")
    runs = []
    for seed in (1, 2):
        train({**student_config(repo_root, tiny_bert), "seed": seed}, folder / f"seed{seed}", registry)
        runs.append(folder / f"seed{seed}")
    return runs
