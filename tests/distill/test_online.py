"""Online distillation: teacher runs score every batch inside the objective."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.api import train
from mtdnn.api.distill import compute_targets
from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.distill import OnlineTeachers, SoftTargets, Teacher
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.experiment import build_experiment
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.device import resolve_precision
from mtdnn.training.objective import Objective
from tests.distill.conftest import student_config
from tests.distill.test_token_level import CPU, _tagging, _targets
from tests.training.resume_helpers import Crash, evaluations, final_weights


def _with_objective(config: dict[str, Any], objective: dict[str, Any]) -> dict[str, Any]:
    return {**config, "trainer": {**config["trainer"], "objective": objective}}


def _online(config: dict[str, Any], teachers: list[Path], **objective: Any) -> dict[str, Any]:
    runs = {"runs": [str(t) for t in teachers]}
    return _with_objective(config, {"type": "bam", "teachers": runs, **objective})


def test_online_teachers_give_the_offline_targets(
    repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    offline = compute_targets(teachers, registry)
    online = OnlineTeachers.from_runs(teachers, registry)
    experiment = build_experiment(student_config(repo_root, tiny_bert), registry)
    for name in ("rte", "sst2"):
        task = experiment.tasks[name]
        data = task.load("train", experiment.encoder)
        online.prepare(name, data, task.head)
        ids = [data.row_id(row) for row in (5, 0, 17, 63, 8)]  # any rows, any order
        for mine, stored in zip(online.rows(name, ids), offline.rows(name, ids), strict=True):
            torch.testing.assert_close(mine, stored, atol=1e-5, rtol=1e-5)  # other padding only


def test_online_distillation_trains_on_rows_no_teacher_scored(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    config = student_config(repo_root, tiny_bert, limit=96)  # the teachers saw the first 64 only
    compute_targets(teachers, registry).save(tmp_path / "t.safetensors")
    offline = _with_objective(config, {"type": "bam", "targets": str(tmp_path / "t.safetensors")})
    with pytest.raises(DataError, match="32 of 96 training rows have no soft target"):
        train(offline, tmp_path / "offline", registry)
    train(_online(config, teachers, tasks=["rte"]), tmp_path / "online", registry)
    [record] = RunDirectory(tmp_path / "online").read_records()
    assert math.isfinite(record["train"]["distill_soft"]) and record["train"]["distill_soft"] > 0
    saved = RunDirectory(tmp_path / "online").read_config()["trainer"]["objective"]
    assert saved["teachers"] == {"runs": [str(t) for t in teachers]}


def test_an_online_distillation_run_resumes_bit_exactly(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    config = student_config(repo_root, tiny_bert, checkpoint_every=1, keep_checkpoints_at_end=True)
    config = _online({**config, "trainer": {**config["trainer"], "epochs": 2}}, teachers, type="hinton")
    train(config, tmp_path / "straight", registry)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "interrupted", registry, callbacks=[Crash(at_step=3)])
    train(config, tmp_path / "interrupted", registry, resume=True)
    weights = final_weights(tmp_path / "straight")
    resumed = final_weights(tmp_path / "interrupted")
    assert weights.keys() == resumed.keys() and not any(k.startswith("teacher") for k in weights)
    assert all(torch.equal(weights[k], v) for k, v in resumed.items())
    assert evaluations(tmp_path / "interrupted") == evaluations(tmp_path / "straight")


def test_online_teachers_are_checked_against_the_student(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, teachers: list[Path], registry: Registry
) -> None:
    for spec, message in (
        ({"type": "bam"}, "give either targets .* or teachers .*, not neither"),
        ({"type": "bam", "targets": "t", "teachers": {"runs": ["r"]}}, "not both"),
        ({"type": "bam", "teachers": {"runs": []}}, "needs at least one teacher run"),
    ):
        with pytest.raises(ConfigurationError, match=message):
            build(registry, Objective, spec, path="trainer.objective", registry=registry)
    with pytest.raises(ConfigurationError, match="supplied at runtime") as refused:
        spec = {"type": "bam", "teachers": {"runs": ["r"], "registry": 1}}
        build(registry, Objective, spec, path="o", registry=registry)
    assert refused.value.path == "o.teachers.registry"
    online = OnlineTeachers.from_runs(teachers[:1], registry)
    assert online.tasks == ["rte", "sst2"] and list(online.modules()) == ["teacher0"]
    online.check("rte", labels=["entailment", "not_entailment"], soft_targets="softmax", positions="example")
    with pytest.raises(ConfigurationError, match=r"not the student's .* in the same order"):
        online.check(
            "rte", labels=["not_entailment", "entailment"], soft_targets="softmax", positions="example"
        )
    with pytest.raises(ConfigurationError, match="gives 'softmax' scores per example, and the student"):
        online.check("rte", labels=None, soft_targets="value", positions="example")
    with pytest.raises(ConfigurationError, match="no teacher run has a task 'mrpc'"):
        online.check("mrpc", labels=None, soft_targets="softmax", positions="example")
    config = _online(student_config(repo_root, tiny_bert), teachers, tasks=["rte", "mrpc"])
    with pytest.raises(ConfigurationError, match=r"not trained \(\['mrpc'\]\) or have no targets"):
        train(config, tmp_path / "never", registry)


def test_a_bilstm_student_gets_per_word_targets_online(
    tmp_path: Path, registry: Registry, tiny_bert: Path
) -> None:
    teacher, task, data = _tagging(registry, "hf", tiny_bert, max_length=16)  # the teacher's windows
    # as mtdnn distill and the online teachers score: in bf16 where the CPU has it natively
    stored = _targets(tmp_path / "t.safetensors", teacher, task, data, resolve_precision(CPU, "auto"))
    student, _, student_data = _tagging(registry, "lstm", tiny_bert, max_length=64)  # other windows
    online = OnlineTeachers([Teacher("memory", teacher, task)])
    online.prepare("t", student_data, student.head("t"))
    batch = make_batch(student_data, [2, 0], student.encoder)
    ids = student.head("t").target_ids(batch.ids)
    offline = SoftTargets({"t": stored}).rows("t", ids)
    for mine, theirs in zip(online.rows("t", ids), offline, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)
    cut = student.head("t").teacher_batch(online.rows("t", ids), batch)
    assert cut.shape[:2] == batch.extras["word_starts"].shape
