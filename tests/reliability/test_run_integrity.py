"""Run directories check themselves: damaged checkpoints skipped, damaged models and edited files found."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from mtdnn.api import train
from mtdnn.cli import make_cli
from mtdnn.errors import ConfigurationError
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.rundir import CHECKSUMS, RunDirectory, recover_interrupted, write_checksums
from mtdnn.training.checkpoint import latest_checkpoint
from tests.conftest import quickstart_config
from tests.training.resume_helpers import Crash, evaluations, final_weights


@pytest.fixture(scope="module")
def config(repo_root: Path, tiny_bert: Path) -> dict[str, Any]:
    """SST-2, 64 examples in batches of 16: 4 steps an epoch, a checkpoint every 2, 2 epochs."""
    base = quickstart_config(
        repo_root, tiny_bert, epochs=2, checkpoint_every=2, keep_checkpoints=3, keep_checkpoints_at_end=True
    )
    base["tasks"] = {"sst2": {**base["tasks"]["sst2"], "train_limit": 64, "batch_size": 16}}
    return base


@pytest.fixture(scope="module")
def straight(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("straight") / "run"
    train(config, folder, build_registry(get_plugin_manager(autoload=False)))
    return folder


def _interrupted(config: dict[str, Any], folder: Path, *, at_step: int = 7) -> Path:
    with pytest.raises(KeyboardInterrupt):
        train(config, folder, build_registry(get_plugin_manager(autoload=False)), callbacks=[Crash(at_step)])
    return folder


def _mtdnn(*args: str) -> Any:
    return CliRunner().invoke(make_cli(get_plugin_manager(autoload=False)), list(args))


@pytest.mark.parametrize("with_checksums", [True, False], ids=["checksummed", "older-run"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(
    config: dict[str, Any],
    straight: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    with_checksums: bool,
) -> None:
    run = _interrupted(config, tmp_path / "run")
    newest = latest_checkpoint(run / "checkpoints")
    assert newest is not None and newest.name == "step_000000006"
    if not with_checksums:  # a checkpoint written before checksums: the load itself fails
        (newest / CHECKSUMS).unlink()
    (newest / "training.pt").write_bytes(b"")  # cut short, as a crash or a full disk leaves it
    with caplog.at_level(logging.WARNING):
        result = train(config, run, build_registry(get_plugin_manager(autoload=False)), resume=True)
    assert "step_000000006 cannot be loaded" in caplog.text
    assert result.state.global_step == 8
    expected, actual = final_weights(straight), final_weights(run)
    assert [name for name in expected if not torch.equal(expected[name], actual[name])] == []
    assert evaluations(run) == evaluations(straight)


def test_leftovers_of_interrupted_writes_are_cleaned_up_on_resume(
    config: dict[str, Any], straight: Path, tmp_path: Path
) -> None:
    run = _interrupted(config, tmp_path / "run")
    files = RunDirectory(run)
    (files.checkpoints / "step_000000006.old").mkdir()  # killed while replacing an old checkpoint
    (files.checkpoints / "step_000000008.tmp").mkdir()  # killed while writing a new one
    (run / "model.tmp").mkdir()
    train(config, run, build_registry(get_plugin_manager(autoload=False)), resume=True)
    leftovers = [
        p.name for p in [*files.checkpoints.iterdir(), *run.iterdir()] if p.suffix in (".tmp", ".old")
    ]
    assert leftovers == []
    assert evaluations(run) == evaluations(straight)


def test_recovery_keeps_a_complete_version_of_a_folder_killed_mid_replace(tmp_path: Path) -> None:
    target = tmp_path / "model"
    old, tmp = tmp_path / "model.old", tmp_path / "model.tmp"
    old.mkdir()
    (old / "weights").write_text("previous")
    tmp.mkdir()
    (tmp / "weights").write_text("new, maybe cut short")
    assert recover_interrupted(target) == [tmp, old]
    assert (target / "weights").read_text() == "previous" and not old.exists() and not tmp.exists()
    tmp.mkdir()  # only a new version, complete by its checksums: it becomes the folder
    (tmp / "weights").write_text("new")
    write_checksums(tmp)
    target.rename(tmp_path / "gone")
    recover_interrupted(target)
    assert (target / "weights").read_text() == "new"
    shutil.rmtree(target)
    tmp.mkdir()
    (tmp / "weights").write_text("cut")  # no checksums: not known to be whole, so removed
    assert recover_interrupted(target) == [tmp]
    assert not target.exists() and not tmp.exists()


def test_a_damaged_or_added_model_file_is_named(straight: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    heads = RunDirectory(run).heads
    data = bytearray(heads.read_bytes())
    data[-1] ^= 0xFF
    heads.write_bytes(bytes(data))
    result = _mtdnn("evaluate", str(run))
    assert result.exit_code == 1
    assert (
        "heads.safetensors' is damaged: its sha256 differs" in result.output
        and "Traceback" not in result.output
    )
    shutil.rmtree(run)
    shutil.copytree(straight, run)
    torch.save({"weights": torch.zeros(2)}, RunDirectory(run).encoder / "pytorch_model.bin")
    result = _mtdnn("evaluate", str(run))
    assert result.exit_code == 1 and "pytorch_model.bin' was not written with" in result.output


def test_hand_edits_of_labels_or_config_are_reported(straight: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(straight, run)
    files = RunDirectory(run)
    labels = json.loads(files.labels.read_text())
    files.labels.write_text(json.dumps({"sst2": labels["sst2"][::-1]}))  # would flip every prediction
    result = _mtdnn("evaluate", str(run))
    assert result.exit_code == 1 and "labels.json' was changed after the model was saved" in result.output
    files.labels.write_text(json.dumps(labels, indent=2) + "\n")
    assert _mtdnn("evaluate", str(run)).exit_code == 0  # restored: accepted again
    files.config.write_text(files.config.read_text()[:-20])
    result = _mtdnn("evaluate", str(run))
    assert (
        result.exit_code == 1
        and "config.json' is damaged" in result.output
        and "Traceback" not in result.output
    )


class Payload:
    """Something a pickle could construct: a weights-only load must refuse it."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("this ran",))


def test_a_checkpoint_that_needs_unpickling_is_refused_with_the_reason(
    config: dict[str, Any], tmp_path: Path
) -> None:
    run = _interrupted(config, tmp_path / "run", at_step=3)
    [only] = list((run / "checkpoints").iterdir())
    (only / CHECKSUMS).unlink()  # as if written before checksums, or the attacker removed them
    torch.save({"optimizer": Payload()}, only / "training.pt")
    with pytest.raises(ConfigurationError) as caught:
        train(config, run, build_registry(get_plugin_manager(autoload=False)), resume=True)
    message = str(caught.value)
    assert "training.pt' is refused: it holds Python objects" in message and "could run code" in message
    assert "weights_only=False" not in message
