"""mtdnn-report loads as an installed plugin, without failures, and its example config runs a batch."""

from __future__ import annotations

from pathlib import Path

import mtdnn_report
from mtdnn.hooks import build_registry, get_plugin_manager

EXAMPLES = Path(mtdnn_report.__file__).resolve().parent / "examples"


def test_the_plugin_loads_strictly_through_its_entry_point() -> None:
    pm = get_plugin_manager(strict=True)  # strict: any failure of any plugin raises
    assert "report" in pm.loaded.infos, "is the plugin installed (pip install -e .)?"
    assert pm.loaded.infos["report"].distribution == "mtdnn-report"
    build_registry(pm)


def test_the_command_is_added() -> None:
    from mtdnn.cli import make_cli

    assert "report" in make_cli(get_plugin_manager(strict=True)).commands
