"""mtdnn-focal loads as an installed plugin, without failures, and its example config runs a batch."""

from __future__ import annotations

from pathlib import Path

import mtdnn_focal
from mtdnn.hooks import build_registry, get_plugin_manager, jsonnet_paths

EXAMPLES = Path(mtdnn_focal.__file__).resolve().parent / "examples"


def test_the_plugin_loads_strictly_through_its_entry_point() -> None:
    pm = get_plugin_manager(strict=True)  # strict: any failure of any plugin raises
    assert "focal" in pm.loaded.infos, "is the plugin installed (pip install -e .)?"
    assert pm.loaded.infos["focal"].distribution == "mtdnn-focal"
    build_registry(pm)
    assert Path(mtdnn_focal.__file__).resolve().parent / "jsonnet" in jsonnet_paths(pm)


def test_the_loss_is_registered_and_the_example_config_runs_a_batch() -> None:
    from mtdnn.api import dry_run, load_config
    from mtdnn.losses.base import Loss
    from mtdnn_focal.loss import FocalLoss

    pm = get_plugin_manager(strict=True)
    registry = build_registry(pm)
    assert registry.resolve(Loss, "focal") is FocalLoss
    report = dry_run(load_config(EXAMPLES / "example.jsonnet", pm), registry)
    assert list(report.tasks) == ["sentiment"]
