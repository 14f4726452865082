"""Settings that would silently break training are refused where they are built: ``--dry-run`` finds them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

from mtdnn.api import dry_run, train
from mtdnn.errors import ConfigurationError, DataError
from mtdnn.hooks import build_registry, get_plugin_manager
from mtdnn.readers import GlueReader
from mtdnn.training.callbacks import Callback
from tests.conftest import quickstart_config


def _set(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    *parents, key = path.split(".")
    node = changed
    for part in parents:
        node = node.setdefault(part, {})
    node[key] = value
    return changed


@pytest.fixture(scope="module")
def config(repo_root: Path, tiny_bert: Path) -> dict[str, Any]:
    base = quickstart_config(repo_root, tiny_bert, epochs=1)
    base["tasks"] = {"sst2": {**base["tasks"]["sst2"], "train_limit": 16}}
    return base


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("trainer.grad_clip", -1, "trainer.grad_clip: grad_clip must be greater than 0, got -1"),
        ("trainer.grad_clip", 0, "grad_clip must be greater than 0"),
        ("trainer.checkpoint_every", 0, "trainer.checkpoint_every: checkpoint_every must be at least 1"),
        ("trainer.checkpoint_every", -3, "checkpoint_every must be at least 1, got -3"),
        ("trainer.checkpoint_every", 2.5, "trainer.checkpoint_every: expected int, got float 2.5"),
        ("tasks.sst2.loss_weight", -1, "tasks.sst2.loss_weight: loss_weight must be at least 0"),
        ("trainer.optimizer.betas", [0.9, 1.5], "trainer.optimizer.betas: betas must be less than 1"),
        (
            "trainer.optimizer.betas",
            [0.9],
            "trainer.optimizer.betas: expected tuple[float, float], got list [0.9]",
        ),
        ("trainer.optimizer.lr", 0, "trainer.optimizer.lr: lr must be greater than 0"),
        ("trainer.optimizer.eps", -1e-8, "eps must be greater than 0"),
        ("trainer.optimizer.weight_decay", -0.1, "weight_decay must be at least 0"),
        ("tasks.sst2.head.dropout", 1.5, "tasks.sst2.head.dropout: dropout must be less than 1.0"),
        ("tasks.sst2.head.dropout", -0.1, "dropout must be at least 0.0"),
        ("trainer.epochs", True, "trainer.epochs: expected int, got bool True"),
        ("trainer.scheduler.warmup", float("nan"), "warmup must be a finite number"),
    ],
)
def test_a_bad_setting_is_refused_by_the_dry_run_at_its_config_path(
    config: dict[str, Any], path: str, value: Any, message: str
) -> None:
    registry = build_registry(get_plugin_manager(autoload=False))
    if path == "tasks.sst2.head.dropout":
        config = _set(config, "tasks.sst2.head", {"type": "classification"})
    if path == "trainer.scheduler.warmup":
        config = _set(config, "trainer.scheduler", {"type": "linear"})
    with pytest.raises(ConfigurationError) as caught:
        dry_run(_set(config, path, value), registry)
    assert message in str(caught.value)


def test_the_dry_run_builds_the_optimizer_and_the_schedule(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtdnn.training import optim

    built: list[int] = []

    def create(self: optim.Scheduler, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        built.append(total_steps)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

    monkeypatch.setattr(optim.LinearSchedule, "create", create)
    dry_run(
        _set(config, "trainer.scheduler", {"type": "linear"}),
        build_registry(get_plugin_manager(autoload=False)),
    )
    assert built == [1]


def test_an_sts_b_score_outside_zero_to_five_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dev.tsv"
    path.write_text(
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
        "0\tmain\tx\t2012\t0\ta\tb\tA man plays.\tA man is playing.\t4.2\n"
        "1\tmain\tx\t2012\t1\ta\tb\tA dog runs.\tA cat sleeps.\t7.5\n"
    )
    with pytest.raises(DataError, match=r"dev.tsv:3: score 7.5 is outside the stsb range \[0, 5\]"):
        list(GlueReader(task="stsb").read(path))


class _StopAtFirstStep(Callback):
    def on_step_end(self, state, control) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("stopped in the first step")


def test_a_run_that_failed_before_it_trained_can_be_started_again(
    config: dict[str, Any], tmp_path: Path
) -> None:
    registry = build_registry(get_plugin_manager(autoload=False))
    with pytest.raises(RuntimeError, match="stopped in the first step"):
        train(config, tmp_path / "run", registry, callbacks=[_StopAtFirstStep()])
    assert (tmp_path / "run" / "config.json").is_file()
    result = train(config, tmp_path / "run", registry)  # not refused as "not empty"
    assert result.state.epoch == 1
    with pytest.raises(ConfigurationError, match="is not empty"):  # a run that trained is kept
        train(config, tmp_path / "run", registry)
