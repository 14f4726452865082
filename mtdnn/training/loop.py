"""The training loop: Algorithm 1 of MT-DNN with evaluation, checkpoints and callbacks."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from mtdnn.archive import save_model
from mtdnn.data import TaskData, make_batch
from mtdnn.data.streams import epoch_streams
from mtdnn.errors import ConfigurationError
from mtdnn.experiment import Experiment
from mtdnn.model import MultiTaskModel
from mtdnn.samplers import plan_lengths
from mtdnn.training.callbacks import Callback
from mtdnn.training.checkpoint import (
    Checkpoint,
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from mtdnn.training.device import autocast, make_grad_scaler, select_device
from mtdnn.training.distributed import setup_distributed
from mtdnn.training.evaluation import check_validation_metric, evaluate_task, validation_score
from mtdnn.training.records import append_record, truncate_records
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["Trainer"]

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
CHECKPOINTS = "checkpoints"


class Trainer:
    """Trains a multi-task model on its tasks' training data and evaluates on their dev data.

    Args:
        experiment: The built experiment (tasks, sampler, trainer settings, seed).
        model: The model to train (usually ``experiment.model()``).
        train_data: Training data per task (tasks without one are evaluated only).
        dev_data: Development data per task.
        run_dir: Where ``metrics.jsonl``, ``model/`` and ``checkpoints/`` go.
        callbacks: Extra observers, besides those of the config.
    """

    def __init__(
        self,
        experiment: Experiment,
        model: MultiTaskModel,
        train_data: dict[str, TaskData],
        dev_data: dict[str, TaskData],
        run_dir: Path,
        *,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        if not train_data:
            raise ConfigurationError("no task has a 'train' file, so there is nothing to train", path="tasks")
        self.experiment = experiment
        self.settings = experiment.trainer
        self.model = model
        self.train_data = train_data
        self.dev_data = dev_data
        self.run_dir = run_dir
        self.callbacks = [*self.settings.callbacks, *callbacks]
        check_validation_metric(experiment.tasks, dev_data, experiment.trainer.validation_metric)
        self._epoch_started = time.perf_counter()
        self.dist = setup_distributed(select_device(self.settings.device))
        self.device = self.dist.device(select_device(self.settings.device))
        # Steps per task and epoch; under data parallelism every step takes one batch per rank.
        self.batch_counts = {
            name: math.ceil(
                math.ceil(len(data) / experiment.tasks[name].settings.batch_size) / self.dist.world_size
            )
            for name, data in train_data.items()
        }

    def fit(self, *, resume: bool = False) -> TrainerState:
        """Train for the configured epochs (or until a callback stops it) and return the final state.

        Args:
            resume: Continue from the newest checkpoint in ``run_dir/checkpoints``.
        """
        settings, model = self.settings, self.model.to(self.device)
        self.forward_model: torch.nn.Module = model
        if self.dist.enabled:  # one head runs per step, so the others' parameters get no gradient
            self.forward_model = DistributedDataParallel(model, find_unused_parameters=True)
        self.optimizer = settings.optimizer.create(model)
        lengths = plan_lengths(
            self.experiment.sampler, self.batch_counts, seed=self.experiment.seed, epochs=settings.epochs
        )
        total_steps = sum(math.ceil(length / settings.accumulation_steps) for length in lengths)
        self.scheduler = settings.scheduler.create(self.optimizer, total_steps)
        self.scaler = make_grad_scaler(self.device, settings.precision)
        state = TrainerState(total_steps=total_steps)
        if resume:
            state = self._resume()
        control = TrainerControl(should_stop=state.stopped)
        for callback in self.callbacks:
            callback.on_train_begin(state, control)
        while state.epoch < settings.epochs and not control.should_stop:
            if not self._train_epoch(state, control):  # stopped inside the epoch
                state.stopped = True
                self._checkpoint(state)
                break
            self._evaluate(state, control)
            for callback in self.callbacks:
                callback.on_epoch_end(state, control)
            state.epoch, state.batches_done = state.epoch + 1, 0
            state.stopped = control.should_stop
            self._checkpoint(state)
        for callback in self.callbacks:
            callback.on_train_end(state, control)
        return state

    def _train_epoch(self, state: TrainerState, control: TrainerControl) -> bool:
        """Train the rest of the current epoch; return whether it ran to its end."""
        seed, tasks = self.experiment.seed, self.experiment.tasks
        plan = self.experiment.sampler.plan(
            self.batch_counts, epoch=state.epoch, seed=seed, total_epochs=self.settings.epochs
        )
        sizes = {name: tasks[name].settings.batch_size for name in self.train_data}
        batches = epoch_streams(self.train_data, sizes, seed=seed, epoch=state.epoch, share=self.dist.share)
        cursor = Counter(plan[: state.batches_done])
        self._epoch_started = time.perf_counter()
        self.model.train()
        progress = tqdm(
            total=len(plan),
            initial=state.batches_done,
            desc=f"epoch {state.epoch + 1}/{self.settings.epochs}",
            disable=not (self.settings.progress_bar and self.dist.is_main),
            dynamic_ncols=True,
        )
        running: torch.Tensor | None = None  # an average kept on the device: no sync per batch
        accumulated = 0
        for position in range(state.batches_done, len(plan)):
            name = plan[position]
            indices = batches[name][cursor[name]]
            cursor[name] += 1
            batch = make_batch(self.train_data[name], indices, self.model.encoder).to(self.device)
            with autocast(self.device, self.settings.precision):
                loss = (
                    tasks[name].settings.loss(self.forward_model(batch), batch)
                    * tasks[name].settings.loss_weight
                )
            self.scaler.scale(loss / self.settings.accumulation_steps).backward()  # type: ignore[no-untyped-call]
            accumulated += 1
            state.batches_done = position + 1
            running = loss.detach() if running is None else 0.95 * running + 0.05 * loss.detach()
            progress.update(1)
            if position % 10 == 0 or position == len(plan) - 1:
                progress.set_postfix(loss=f"{running.item():.4f}", task=name, refresh=False)
            if accumulated == self.settings.accumulation_steps or position == len(plan) - 1:
                self._optimizer_step()
                accumulated = 0
                state.global_step += 1
                for callback in self.callbacks:
                    callback.on_step_end(state, control)
                every = self.settings.checkpoint_every
                if control.should_evaluate:
                    control.should_evaluate = False
                    self._evaluate(state, control)
                if control.should_save or (every and state.global_step % every == 0):
                    control.should_save = False
                    self._checkpoint(state)
                if control.should_stop and position < len(plan) - 1:
                    progress.close()
                    return False
        progress.close()
        return True

    def _optimizer_step(self) -> None:
        if self.settings.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def _evaluate(self, state: TrainerState, control: TrainerControl) -> None:
        started = time.perf_counter()
        metrics = {
            name: evaluate_task(
                self.model,
                self.experiment.tasks[name],
                data,
                device=self.device,
                precision=self.settings.precision,
            )
            for name, data in sorted(self.dev_data.items())
        }
        score = validation_score(metrics, self.settings.validation_metric) if metrics else None
        improved = score is None or state.best_score is None or score > state.best_score
        if improved:
            state.best_score, state.best_epoch, state.evaluations_since_best = score, state.epoch, 0
            state.best_metrics = metrics
            if self.dist.is_main:
                save_model(self.model, self.run_dir)
        else:
            state.evaluations_since_best += 1
        state.last_metrics = metrics
        state.evaluations += 1
        record: dict[str, Any] = {
            "epoch": state.epoch + 1,
            "step": state.global_step,
            "dev": metrics,
            "score": score,
            "best": improved,
            "train_seconds": round(started - self._epoch_started, 2),
            "eval_seconds": round(time.perf_counter() - started, 2),
            "world_size": self.dist.world_size,
        }
        if self.dist.is_main:
            append_record(self.run_dir / METRICS_FILE, record)
        logger.info(
            "epoch %d: %s (score %s%s)", state.epoch + 1, metrics, score, ", best" if improved else ""
        )
        for callback in self.callbacks:
            callback.on_evaluate(state, control, metrics)

    def _checkpoint(self, state: TrainerState) -> None:
        if not self.dist.is_main:
            return
        checkpoint = Checkpoint(
            trainer={"state": state.to_json(), "sampler": self.experiment.sampler.state_dict()},
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(),
            rng=rng_state(),
        )
        save_checkpoint(
            self.run_dir / CHECKPOINTS, self.model, checkpoint, keep=self.settings.keep_checkpoints
        )

    def _resume(self) -> TrainerState:
        path = latest_checkpoint(self.run_dir / CHECKPOINTS)
        if path is None:
            raise ConfigurationError(f"nothing to resume: no checkpoint in {self.run_dir / CHECKPOINTS}")
        checkpoint = load_checkpoint(path, self.model, self.device)
        self.optimizer.load_state_dict(checkpoint.optimizer)
        self.scheduler.load_state_dict(checkpoint.scheduler)
        self.scaler.load_state_dict(checkpoint.scaler)
        self.experiment.sampler.load_state_dict(checkpoint.trainer["sampler"])
        restore_rng(checkpoint.rng)
        state = TrainerState.from_json(checkpoint.trainer["state"])
        if self.dist.is_main:
            truncate_records(self.run_dir / METRICS_FILE, keep=state.evaluations)
        logger.info("resumed from %s (epoch %d, step %d)", path, state.epoch + 1, state.global_step)
        return state
