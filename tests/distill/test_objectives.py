"""Distillation strategies: each loss by hand on a real batch, every label head, targets from teacher runs."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.api import train
from mtdnn.api.distill import compute_targets
from mtdnn.config import build
from mtdnn.data import TaskData, make_batch
from mtdnn.distill import SoftTargets, TaskTargets
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.training.objective import Objective, Step
from tests.adversarial.test_every_head import _encoder, _setup
from tests.conftest import quickstart_config

HEADS = ["classification", "san", "regression", "ranking", "multilabel", "tagging", "span"]


def _teacher_file(path: Path, step: Step, data: TaskData, *, seed: int = 3) -> torch.Tensor:
    """Teacher logits (the model's own plus noise) for every row of the step's batch, as a targets file.

    Returns the teacher's logits in the shape of the batch's.
    """
    torch.manual_seed(seed)
    with torch.no_grad():
        output = step.forward()
    noisy = dataclasses.replace(output, logits=output.logits + torch.randn(output.logits.shape) * 2)
    head = step.head
    rows = head.teacher_scores(noisy, step.batch)
    ids, merged = head.teacher_rows(data, rows)  # the batch holds every row of the data, in order
    SoftTargets(
        {
            "t": TaskTargets(
                task="t",
                head=type(head).__name__,
                soft_targets=str(head.soft_targets),
                labels=step.task.labels,
                ids=tuple(ids),
                rows=tuple(merged),
                positions=head.soft_positions,
                groups=None if step.batch.groups is None else tuple(step.batch.groups.tolist()),
            )
        }
    ).save(path)
    return noisy.logits


def _step(
    registry: Registry, tiny_bert: Path, kind: str = "classification", total_steps: int = 3
) -> tuple[Step, TaskData]:
    """A step over every row of a small task's data (in eval mode), and the data."""
    torch.manual_seed(0)
    model, task, data = _setup(registry, _encoder("hf", tiny_bert), kind)
    batch = model.prepare(make_batch(data, range(len(data)), model.encoder))
    return Step(model=model.eval(), module=model, batch=batch, task=task, total_steps=total_steps), data


def _objective(registry: Registry, step: Step, settings: dict[str, Any]) -> Objective:
    objective = build(registry, Objective, settings, path="trainer.objective")
    objective.setup(step.module, tasks={"t": step.task}, total_steps=step.total_steps)
    return objective


def _kl(teacher: torch.Tensor, student: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    p = torch.softmax(teacher / temperature, dim=-1)
    return (p * (p.log() - torch.log_softmax(student / temperature, dim=-1))).sum(-1).mean()


def test_each_strategy_is_its_formula(tmp_path: Path, registry: Registry, tiny_bert: Path) -> None:
    step, data = _step(registry, tiny_bert)
    teacher = _teacher_file(tmp_path / "t.safetensors", step, data)
    path = str(tmp_path / "t.safetensors")
    with torch.no_grad():
        output = step.forward()
        gold = step.task_loss(output)
    logits = output.logits
    cases = {
        "mtdnn_kd": ({"type": "mtdnn_kd"}, (gold + _kl(teacher, logits)) / 2),
        "hinton": (
            {"type": "hinton", "alpha": 0.3, "temperature": 2.0},
            0.7 * gold + 0.3 * 4.0 * _kl(teacher, logits, 2.0),
        ),
        "mse_logits": ({"type": "mse_logits"}, ((logits - teacher) ** 2).mean()),
        "mse_logits, alpha 0.25": (
            {"type": "mse_logits", "alpha": 0.25},
            0.75 * gold + 0.25 * ((logits - teacher) ** 2).mean(),
        ),
        "bam fixed": (
            {"type": "bam", "anneal": False, "fixed": 0.2},
            0.2 * gold + 0.8 * _kl(teacher, logits),
        ),
    }
    for name, (settings, expected) in cases.items():
        with torch.no_grad():
            result = _objective(registry, step, {**settings, "targets": path})(step)
        torch.testing.assert_close(result.loss, expected, msg=name)
    # teacher annealing: lambda 0, 0.5, 1 at the first, middle and last of 3 optimizer steps
    objective = _objective(registry, step, {"type": "bam", "targets": path})
    soft = _kl(teacher, logits)
    for global_step, share in ((0, 0.0), (1, 0.5), (2, 1.0)):
        with torch.no_grad():
            result = objective(Step(**{**step.__dict__, "global_step": global_step}))
        torch.testing.assert_close(result.loss, share * gold + (1 - share) * soft, msg=str(global_step))
        assert float(result.scalars["bam_lambda"]) == share
    assert float(soft) > 0


@pytest.mark.parametrize("strategy", ["mtdnn_kd", "bam", "hinton", "mse_logits"])
@pytest.mark.parametrize("kind", HEADS)
def test_every_head_trains_under_every_strategy(
    tmp_path: Path, registry: Registry, tiny_bert: Path, kind: str, strategy: str
) -> None:
    step, data = _step(registry, tiny_bert, kind)
    _teacher_file(tmp_path / "t.safetensors", step, data)
    objective = _objective(registry, step, {"type": strategy, "targets": str(tmp_path / "t.safetensors")})
    model = step.module.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for number in range(4):
        result = objective(Step(**{**step.__dict__, "global_step": number, "total_steps": 4}))
        result.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(result.loss.detach()))
    assert all(math.isfinite(value) for value in losses), losses
    soft = next(v for k, v in result.scalars.items() if k.startswith("distill_"))
    assert math.isfinite(float(soft)) and float(soft) >= 0


def test_wrong_labels_heads_and_rows_are_refused(tmp_path: Path, registry: Registry, tiny_bert: Path) -> None:
    step, data = _step(registry, tiny_bert)
    _teacher_file(tmp_path / "t.safetensors", step, data)
    targets = SoftTargets.load(tmp_path / "t.safetensors")
    flipped = {**targets.tasks["t"].__dict__, "labels": list(reversed(step.task.labels or []))}
    SoftTargets({"t": TaskTargets(**flipped)}).save(tmp_path / "flipped.safetensors")
    with pytest.raises(DataError, match="in the same order"):
        _objective(registry, step, {"type": "bam", "targets": str(tmp_path / "flipped.safetensors")})
    objective = _objective(registry, step, {"type": "bam", "targets": str(tmp_path / "t.safetensors")})
    from mtdnn.data import TaskData
    from mtdnn.types import Example

    unknown = tuple(Example(f"other-{i}", "text") for i in range(3))
    data = TaskData("t", unknown, tuple({"input_ids": [1]} for _ in unknown), None)
    with pytest.raises(DataError, match="3 of 3 training rows have no soft target"):
        objective.check_data({"t": data})
    with pytest.raises(ConfigurationError, match="not trained"):
        _objective(
            registry, step, {"type": "bam", "targets": str(tmp_path / "t.safetensors"), "tasks": ["rte"]}
        )
    mlm, _ = _step(registry, tiny_bert, "mlm")
    with pytest.raises(
        ConfigurationError, match="MaskedLmHead head of task 't' cannot learn from soft targets"
    ):
        _objective(registry, mlm, {"type": "bam", "targets": str(tmp_path / "t.safetensors"), "tasks": ["t"]})


def test_targets_from_two_teacher_runs_train_a_student(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = quickstart_config(repo_root, tiny_bert, epochs=1)
    config["tasks"] = {
        "rte": {**config["tasks"]["rte"], "train_limit": 64},
        "mrpc": {**config["tasks"]["mrpc"], "train_limit": 64},
    }
    teachers = []
    for seed in (1, 2):
        train({**config, "seed": seed}, tmp_path / f"teacher{seed}", registry)
        teachers.append(tmp_path / f"teacher{seed}")
    targets = compute_targets(teachers, registry, tasks=["rte"])
    assert list(targets.tasks) == ["rte"]
    rte = targets.tasks["rte"]
    assert len(rte.ids) == 64 and rte.combine == "probs" and len(rte.teachers) == 2
    assert [t["run"] for t in rte.teachers] == [str(p) for p in teachers]
    singles = [compute_targets([run], registry, tasks=["rte"]).tasks["rte"] for run in teachers]
    for row, one, two in zip(rte.rows, singles[0].rows, singles[1].rows, strict=True):  # the average by hand
        torch.testing.assert_close(
            torch.softmax(row, -1), (torch.softmax(one, -1) + torch.softmax(two, -1)) / 2
        )
    targets.save(tmp_path / "targets.safetensors")
    student = {**config, "seed": 5}
    student["trainer"] = {
        **config["trainer"],
        "objective": {"type": "bam", "targets": str(tmp_path / "targets.safetensors")},
    }
    result = train(student, tmp_path / "student", registry)
    assert result.state.global_step == 4
    [record] = RunDirectory(tmp_path / "student").read_records()
    assert {"distill_soft", "bam_lambda"} <= set(record["train"])
    with pytest.raises(
        ConfigurationError, match=r"no teacher run has a 'train' file for the tasks \['sst2'\]"
    ):
        compute_targets(teachers, registry, tasks=["sst2"])


def test_smart_wraps_a_distillation_objective(tmp_path: Path, registry: Registry, tiny_bert: Path) -> None:
    step, data = _step(registry, tiny_bert)
    _teacher_file(tmp_path / "t.safetensors", step, data)
    settings = {
        "type": "smart",
        "epsilon": 1e-2,
        "inner": {"type": "bam", "targets": str(tmp_path / "t.safetensors")},
    }
    objective = _objective(registry, step, settings)
    model = step.module.train()
    result = objective(Step(**{**step.__dict__, "global_step": 1}))
    assert {"smart_divergence", "distill_soft", "bam_lambda"} <= set(result.scalars)
    result.loss.backward()
    assert all(p.grad is not None for p in model.heads.parameters())
