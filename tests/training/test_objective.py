"""The training-step seam: objectives, owned modules and their checkpointed state, reported scalars."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from mtdnn.api import dry_run, train
from mtdnn.config import build
from mtdnn.data import make_batch
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import build_experiment
from mtdnn.heads import ClassificationHead, Head
from mtdnn.model import MultiTaskModel
from mtdnn.registry import Registry
from mtdnn.rundir import RunDirectory
from mtdnn.task import Task
from mtdnn.training import Objective, RDropObjective, TaskLossObjective
from mtdnn.training.checkpoint import latest_checkpoint
from mtdnn.training.objective import ObjectiveOutput, Step, WrappingObjective
from mtdnn.training.settings import TrainerSettings
from mtdnn.types import HeadOutput
from tests.conftest import quickstart_config
from tests.training.resume_helpers import Crash, evaluations, final_weights


class EmaObjective(WrappingObjective):
    """An objective that owns an EMA copy of the model (as SMART's proximal term does) and reports a scalar.

    Args:
        inner: The objective wrapped.
        decay: The EMA's decay per optimizer step.
    """

    def __init__(self, *, inner: Objective | None = None, decay: float = 0.9) -> None:
        super().__init__(inner=inner)
        self.decay = decay
        self.ema: MultiTaskModel | None = None

    def setup(self, model: MultiTaskModel, *, tasks: Mapping[str, Task], total_steps: int) -> None:
        super().setup(model, tasks=tasks, total_steps=total_steps)
        self.ema = copy.deepcopy(model).eval()

    def _ema(self) -> MultiTaskModel:
        assert self.ema is not None, "setup() makes the copy"
        return self.ema

    def modules(self) -> dict[str, nn.Module]:
        return {**super().modules(), "ema": self._ema()}

    def state_dict(self) -> dict[str, torch.Tensor]:
        own = {f"ema.{key}": value for key, value in self._ema().state_dict().items()}
        return {**super().state_dict(), **own}

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        self._ema().load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("ema.")})
        super().load_state_dict({k: v for k, v in state.items() if not k.startswith("ema.")})

    def on_step_end(self, model: MultiTaskModel, *, global_step: int, total_steps: int) -> None:
        super().on_step_end(model, global_step=global_step, total_steps=total_steps)
        with torch.no_grad():
            for mine, theirs in zip(self._ema().parameters(), model.parameters(), strict=True):
                mine.lerp_(theirs, 1 - self.decay)

    def __call__(self, step: Step) -> ObjectiveOutput:
        result = self.inner(step)
        assert result.output is not None
        with torch.no_grad():
            teacher = self._ema()(step.batch)
        divergence = step.head.divergence(result.output, teacher, step.batch)
        return ObjectiveOutput(result.loss, result.output, {**result.scalars, "ema_divergence": divergence})


@pytest.fixture
def with_ema(registry: Registry) -> Registry:
    registry.add(Objective, "test_ema", EmaObjective)
    return registry


def _rte_only(repo_root: Path, tiny_bert: Path, **trainer: Any) -> dict[str, Any]:
    config = quickstart_config(repo_root, tiny_bert, epochs=1, **trainer)
    config["tasks"] = {"rte": {**config["tasks"]["rte"], "train_limit": 64}}
    return config


def test_task_loss_is_the_default_and_objectives_nest_from_the_config(registry: Registry) -> None:
    assert isinstance(TrainerSettings().objective, TaskLossObjective)
    settings = build(
        registry,
        TrainerSettings,
        {"objective": {"type": "r_drop", "alpha": 0.5, "inner": {"type": "r_drop", "inner": "task_loss"}}},
        path="trainer",
    )
    outer = settings.objective
    assert isinstance(outer, RDropObjective) and outer.alpha == 0.5
    assert isinstance(outer.inner, RDropObjective) and isinstance(outer.inner.inner, TaskLossObjective)
    with pytest.raises(ConfigurationError) as info:
        build(registry, TrainerSettings, {"objective": {"type": "r_drop", "alpha": -1}}, path="trainer")
    assert info.value.path == "trainer.objective.alpha"
    with pytest.raises(ConfigurationError, match="did you mean 'r_drop'"):
        build(registry, TrainerSettings, {"objective": {"type": "rdrop"}}, path="trainer")


def _step(repo_root: Path, tiny_bert: Path, registry: Registry) -> Step:
    experiment = build_experiment(_rte_only(repo_root, tiny_bert), registry)
    model = experiment.model().train()
    task = experiment.tasks["rte"]
    data = task.load("train", experiment.encoder)
    batch = model.prepare(make_batch(data, range(16), model.encoder))
    return Step(model=model, module=model, batch=batch, task=task)


def test_r_drop_is_the_mean_of_two_dropout_passes_plus_half_alpha_times_their_divergence(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    step = _step(repo_root, tiny_bert, registry)
    torch.manual_seed(5)
    result = RDropObjective(alpha=3.0)(step)
    torch.manual_seed(5)  # the same dropout masks, by hand
    first, second = step.forward(), step.forward()
    divergence = step.head.divergence(first, second, step.batch)
    assert float(divergence.detach()) > 0  # dropout made the two passes differ
    expected = (step.task_loss(first) + step.task_loss(second)) / 2 + 3.0 * divergence / 2
    torch.testing.assert_close(result.loss, expected)
    torch.testing.assert_close(result.scalars["r_drop_divergence"], divergence.detach())
    result.loss.backward()
    assert all(p.grad is not None for p in step.module.heads.parameters())
    step.module.eval()  # no dropout: both passes agree and the term vanishes
    with torch.no_grad():
        still = RDropObjective(alpha=3.0)(step)
        torch.testing.assert_close(still.loss, TaskLossObjective()(step).loss)
    assert float(still.scalars["r_drop_divergence"]) == 0.0


class PlainHead(ClassificationHead):
    """A plugin head that does not define ``divergence``."""

    divergence = Head.divergence


def test_r_drop_names_the_task_whose_head_has_no_divergence(
    repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    registry.add(Head, "plain", PlainHead)
    config = _rte_only(repo_root, tiny_bert, objective={"type": "r_drop"})
    config["tasks"]["rte"]["head"] = {"type": "plain"}
    experiment = build_experiment(config, registry)
    with pytest.raises(ConfigurationError, match="PlainHead head of task 'rte'") as info:
        experiment.trainer.objective.setup(experiment.model(), tasks=experiment.tasks, total_steps=1)
    assert info.value.path == "trainer.objective"
    with pytest.raises(ConfigurationError, match="PlainHead head of task 'rte'"):
        dry_run(config, registry)  # what training would trip over, found before it starts


def test_training_with_r_drop_reports_its_divergence_with_the_loss(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    config = _rte_only(repo_root, tiny_bert, objective={"type": "r_drop", "alpha": 1.0})
    result = train(config, tmp_path / "run", registry)
    assert result.state.global_step == 2  # 64 examples in batches of 32
    [record] = RunDirectory(tmp_path / "run").read_records()
    assert set(record["train"]) == {"loss", "r_drop_divergence"}
    assert record["train"]["loss"] > 0 and record["train"]["r_drop_divergence"] > 0


def test_owned_modules_stay_out_of_the_optimizer_and_the_model_and_resume_exactly(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, with_ema: Registry
) -> None:
    # As tests/training/test_resume.py: 45 steps per epoch, checkpoints every 10; the crash at step
    # 57 loses seven steps, which the resumed run must redo with the EMA copy as it was at step 50.
    config = quickstart_config(
        repo_root, tiny_bert, epochs=2, checkpoint_every=10, keep_checkpoints=3, keep_checkpoints_at_end=True
    )
    config["trainer"]["objective"] = {"type": "test_ema", "decay": 0.8}
    straight = tmp_path / "straight"
    result = train(config, straight, with_ema)
    objective = build(with_ema, Objective, config["trainer"]["objective"], path="trainer.objective")
    assert isinstance(objective, EmaObjective)

    trained = {id(p) for p in result.model.parameters()}
    experiment = build_experiment(config, with_ema)
    model = experiment.model()
    experiment.trainer.objective.setup(model, tasks=experiment.tasks, total_steps=1)
    ema = experiment.trainer.objective.modules()["ema"]
    assert not trained & {id(p) for p in ema.parameters()}
    run = RunDirectory(straight)
    heads = load_file(str(run.heads))
    assert heads.keys() == {key for key in model.heads.state_dict()}  # model/ holds the model only

    interrupted = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(config, interrupted, with_ema, callbacks=[Crash(at_step=57)])
    train(config, interrupted, with_ema, resume=True)

    expected, actual = (
        load_file(str(latest_checkpoint(RunDirectory(path).checkpoints) / "objective.safetensors"))  # type: ignore[operator]
        for path in (straight, interrupted)
    )
    assert expected.keys() == {f"ema.{key}" for key in model.state_dict()}
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
    weights = final_weights(straight)
    assert not torch.equal(
        expected["ema.heads.rte.classifier.0.weight"], weights["heads.rte.classifier.0.weight"]
    )
    assert all(torch.equal(weights[key], value) for key, value in final_weights(interrupted).items())
    records = evaluations(interrupted)
    assert records == evaluations(straight)  # the averaged loss and scalar included
    assert all(set(record["train"]) == {"loss", "ema_divergence"} for record in records)


def test_the_trainer_moves_owned_modules_and_freezes_them(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, with_ema: Registry
) -> None:
    config = _rte_only(repo_root, tiny_bert, objective={"type": "test_ema"})
    experiment = build_experiment(config, with_ema)
    from mtdnn.api.train import load_split
    from mtdnn.training.loop import Trainer

    trainer = Trainer(
        experiment.model(),
        experiment.tasks,
        load_split(experiment, "train"),
        {},
        tmp_path / "run",
        settings=experiment.trainer,
        sampler=experiment.sampler,
        seed=experiment.seed,
    )
    trainer.fit()
    ema = experiment.trainer.objective.modules()["ema"]
    assert all(not p.requires_grad and p.device == trainer.device for p in ema.parameters())
    optimised = {id(p) for group in trainer.parts.optimizer.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in trainer.model.parameters()}
    assert not optimised & {id(p) for p in ema.parameters()}


def test_the_loop_calls_one_objective_per_batch_and_never_asks_which(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    seen: list[tuple[str, int]] = []

    class Counting(Objective):
        def __call__(self, step: Step) -> ObjectiveOutput:
            seen.append((step.batch.task, step.global_step))
            output: HeadOutput = step.forward()
            return ObjectiveOutput(step.task_loss(output), output, {"width": torch.tensor(len(step.batch))})

    registry.add(Objective, "counting", Counting)
    config = _rte_only(repo_root, tiny_bert, objective="counting")
    train(config, tmp_path / "run", registry)
    assert seen == [("rte", 0), ("rte", 1)]
    [record] = RunDirectory(tmp_path / "run").read_records()
    assert record["train"]["width"] == 32.0
    loop = (repo_root / "mtdnn" / "training" / "loop.py").read_text()
    assert "r_drop" not in loop.lower() and "RDrop" not in loop and "TaskLoss" not in loop


def test_the_objective_of_the_plugin_guide_trains(
    tmp_path: Path, repo_root: Path, tiny_bert: Path, registry: Registry
) -> None:
    guide = (repo_root / "docs" / "plugins.md").read_text()
    [source] = [block for block in re.findall(r"```python\n(.*?)```", guide, re.S) if "LogitPenalty" in block]
    namespace: dict[str, Any] = {}
    exec(compile(source, "docs/plugins.md", "exec"), namespace)  # the guide's code, as written
    namespace["mtdnn_register"](registry)
    config = _rte_only(repo_root, tiny_bert, objective={"type": "logit_penalty", "weight": 0.01})
    train(config, tmp_path / "run", registry)
    [record] = RunDirectory(tmp_path / "run").read_records()
    assert set(record["train"]) == {"loss", "logit_penalty"} and record["train"]["logit_penalty"] > 0
