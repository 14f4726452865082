"""A read-only or full run directory is one clear error naming the path, found early, with no half files."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mtdnn.cli import make_cli
from mtdnn.hooks import get_plugin_manager
from tests.conftest import quickstart_config


def _mount(folder: Path, *options: str) -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB file system: room for the run's files, not for the model."""
    yield from _mount(tmp_path / "small", "size=512k")


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    yield from _mount(tmp_path / "ro", "ro", "size=1m")


def _train(config: dict[str, Any], tmp_path: Path, run_dir: Path, *extra: str) -> Any:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    arguments = ["train", str(path), "-s", str(run_dir), *extra]
    return CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), arguments)


@pytest.fixture
def config(repo_root: Path, tiny_bert: Path) -> dict[str, Any]:
    base = quickstart_config(repo_root, tiny_bert, epochs=1)
    base["tasks"] = {"sst2": {**base["tasks"]["sst2"], "train_limit": 16}}
    return base


def test_a_full_disk_is_one_line_naming_the_path_and_leaves_no_half_written_model(
    config: dict[str, Any], full_disk: Path, tmp_path: Path
) -> None:
    result = _train(config, tmp_path, full_disk / "run")
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert line.startswith("Error: no space left on the device: ") and str(full_disk / "run") in line
    assert "Traceback" not in result.output
    leftovers = [p.name for p in (full_disk / "run").rglob("*") if p.suffix in (".tmp", ".old")]
    assert leftovers == []


def test_a_read_only_run_directory_is_refused_before_any_work(
    config: dict[str, Any], read_only: Path, tmp_path: Path
) -> None:
    result = _train(config, tmp_path, read_only / "run")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: Read-only file system: {read_only / 'run'}"
