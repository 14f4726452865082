"""`mtdnn distill` through click: targets, inspect, train on them, the one-shot form, and resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from mtdnn.api import train
from mtdnn.api.distill import with_targets
from mtdnn.cli import make_cli
from mtdnn.distill import SoftTargets
from mtdnn.errors import ConfigurationError
from mtdnn.hooks import get_plugin_manager
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from tests.distill.conftest import student_config as _config
from tests.training.resume_helpers import Crash, evaluations, final_weights


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)), list(args), catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_targets_inspect_and_train(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path]
) -> None:
    output = _invoke(
        "distill", "targets", *map(str, teachers), "-o", str(tmp_path / "t.safetensors"), "--task", "rte"
    )
    assert "rte: 64 rows from 2 teacher(s), combined as probs" in output
    assert list(SoftTargets.load(tmp_path / "t.safetensors").tasks) == ["rte"]
    described = _invoke("distill", "inspect", str(tmp_path / "t.safetensors"))
    assert "rte: 64 rows, softmax scores of a ClassificationHead per example" in described
    assert "all teachers choose the same label on" in described
    assert described.count("accuracy") == 3  # the combined targets and each teacher, on the gold labels
    config = tmp_path / "student.json"
    config.write_text(json.dumps(_config(repo_root, tiny_bert)))
    trained = _invoke(
        "distill",
        "train",
        str(config),
        "-s",
        str(tmp_path / "student"),
        "--targets",
        str(tmp_path / "t.safetensors"),
    )
    assert "best validation score" in trained
    saved = RunDirectory(tmp_path / "student").read_config()["trainer"]["objective"]
    assert saved == {
        "type": "bam",
        "targets": str(tmp_path / "t.safetensors"),
        "inner": {"type": "task_loss"},
    }
    [record] = RunDirectory(tmp_path / "student").read_records()
    assert "distill_soft" in record["train"]


def test_a_transfer_set_beyond_the_teachers_training_limit(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    """--limit labels more of the file than the teacher trained on (64), and a student learns from it."""
    targets = tmp_path / "transfer.safetensors"
    output = _invoke(
        "distill", "targets", str(teachers[0]), "--task", "sst2", "--limit", "150", "-o", str(targets)
    )
    assert "sst2: 150 rows from 1 teacher(s)" in output
    loaded = SoftTargets.load(targets).tasks["sst2"]
    config = _config(repo_root, tiny_bert, limit=150)
    config["tasks"] = {"sst2": config["tasks"]["sst2"]}
    experiment_ids = [e.id for e in _read_sst2(repo_root, 150)]
    assert list(loaded.ids) == experiment_ids  # the file's first 150 rows, in order
    config["trainer"]["objective"] = {"type": "hinton", "targets": str(targets), "alpha": 1.0}
    train(config, tmp_path / "student", registry)
    [record] = RunDirectory(tmp_path / "student").read_records()
    assert record["train"]["distill_soft"] > 0
    beyond = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["distill", "targets", str(teachers[0]), "--limit", "0", "-o", str(targets)],
    )
    assert beyond.exit_code != 0 and "--limit" in beyond.output


def _read_sst2(repo_root: Path, limit: int) -> list[Any]:
    from mtdnn.readers import GlueReader

    return list(GlueReader("sst2").read(repo_root / "data" / "quickstart" / "sst2" / "train.tsv"))[:limit]


def test_the_one_shot_form_keeps_its_targets_in_the_run(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path]
) -> None:
    config = tmp_path / "student.json"
    config.write_text(json.dumps(_config(repo_root, tiny_bert)))
    run = tmp_path / "student"
    pairs = [
        "--teacher",
        f"rte={teachers[0]}",
        "--teacher",
        f"rte={teachers[1]}",
        "--teacher",
        f"sst2={teachers[0]}",
    ]
    output = _invoke("distill", str(config), "-s", str(run), *pairs, "--strategy", "hinton")
    assert "best validation score" in output
    cached = SoftTargets.load(RunDirectory(run).soft_targets)
    assert {name: len(task.teachers) for name, task in cached.tasks.items()} == {"rte": 2, "sst2": 1}
    assert RunDirectory(run).read_config()["trainer"]["objective"]["type"] == "hinton"
    again = CliRunner().invoke(
        make_cli(get_plugin_manager(autoload=False)),
        ["distill", str(config), "-s", str(run), "--teacher", f"rte={teachers[1]}"],
    )
    assert again.exit_code != 0 and "holds soft targets of other teachers" in again.output


def test_with_targets_finds_the_distillation_objective_under_another(registry: Registry) -> None:
    config = {"trainer": {"objective": {"type": "smart", "inner": {"type": "mtdnn_kd", "targets": "old"}}}}
    changed = with_targets(config, Path("new.safetensors"), registry)
    assert changed["trainer"]["objective"] == {
        "type": "smart",
        "inner": {"type": "mtdnn_kd", "targets": "new.safetensors"},
    }
    assert config["trainer"]["objective"]["inner"]["targets"] == "old"  # not changed in place
    wrapped = with_targets({"trainer": {"objective": "r_drop"}}, Path("t"), registry, strategy="mse_logits")
    assert wrapped["trainer"]["objective"] == {"type": "mse_logits", "targets": "t", "inner": "r_drop"}
    with pytest.raises(ConfigurationError, match="did you mean 'bam'"):
        with_targets({"trainer": {}}, Path("t"), registry, strategy="bamm")


def test_a_distillation_run_resumes_bit_exactly(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    from mtdnn.api.distill import compute_targets

    compute_targets(teachers, registry).save(tmp_path / "t.safetensors")
    config = _config(repo_root, tiny_bert, checkpoint_every=1, keep_checkpoints_at_end=True)
    config = with_targets(
        {**config, "trainer": {**config["trainer"], "epochs": 2}}, tmp_path / "t.safetensors", registry
    )
    train(config, tmp_path / "straight", registry)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "interrupted", registry, callbacks=[Crash(at_step=3)])
    train(config, tmp_path / "interrupted", registry, resume=True)
    weights = final_weights(tmp_path / "straight")
    assert all(torch.equal(weights[k], v) for k, v in final_weights(tmp_path / "interrupted").items())
    assert evaluations(tmp_path / "interrupted") == evaluations(tmp_path / "straight")
