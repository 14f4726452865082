"""The training loop: Algorithm 1 of MT-DNN with evaluation, checkpoints and callbacks."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from mtdnn.data import TaskData, make_batch
from mtdnn.data.streams import BatchStream, batch_counts, epoch_streams
from mtdnn.dropout import use_fast_dropout
from mtdnn.errors import ConfigurationError
from mtdnn.model import MultiTaskModel
from mtdnn.rundir import RunDirectory
from mtdnn.samplers import TaskSampler, plan_lengths
from mtdnn.task import Task
from mtdnn.training.averages import RunningMeans
from mtdnn.training.callbacks import Callback
from mtdnn.training.checkpoint import TrainingParts, restore_training, save_training
from mtdnn.training.device import (
    autocast,
    configure_threads,
    make_grad_scaler,
    native_bf16,
    resolve_precision,
    select_device,
)
from mtdnn.training.distributed import setup_distributed
from mtdnn.training.evaluation import check_validation_metric, evaluate_tasks, validation_score
from mtdnn.training.objective import Step
from mtdnn.training.settings import TrainerSettings
from mtdnn.training.state import TrainerControl, TrainerState

__all__ = ["Trainer"]

logger = logging.getLogger(__name__)


class Trainer:
    """Trains a multi-task model on its tasks' training data and evaluates on their dev data.

    Every batch goes through the configured objective (``trainer.objective``), which returns the
    loss and any extra scalars; the loop does not know which objective it runs.

    Args:
        model: The model to train (usually ``experiment.model()``).
        tasks: Every task of the experiment, by name.
        train_data: Training data per task (tasks without one are evaluated only).
        dev_data: Development data per task.
        run_dir: The run directory (``metrics.jsonl``, ``model/``, ``checkpoints/``).
        settings: The ``trainer`` section of the config.
        sampler: Decides which task each batch comes from.
        seed: The experiment's seed (batch order and sampler plans).
        callbacks: Extra observers, besides those of the config.
    """

    def __init__(
        self,
        model: MultiTaskModel,
        tasks: Mapping[str, Task],
        train_data: dict[str, TaskData],
        dev_data: dict[str, TaskData],
        run_dir: Path,
        *,
        settings: TrainerSettings,
        sampler: TaskSampler,
        seed: int,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        if not train_data:
            raise ConfigurationError("no task has a 'train' file, so there is nothing to train", path="tasks")
        self.model, self.tasks, self.settings, self.sampler, self.seed = model, tasks, settings, sampler, seed
        self.train_data, self.dev_data = train_data, dev_data
        self.run = RunDirectory(run_dir)
        self.objective = settings.objective
        self.callbacks = [*settings.callbacks, *callbacks]
        # the callbacks that log training values, and the window of values since their last call
        self._loggers = [c for c in self.callbacks if type(c).on_log is not Callback.on_log]
        self._window = RunningMeans()
        check_validation_metric(tasks, dev_data, settings.validation_metric)
        self.dist = setup_distributed(select_device(settings.device))
        self.device = self.dist.device(select_device(settings.device))
        self.fp32_reason = self.objective.fp32_reason()
        self.precision = resolve_precision(self.device, settings.precision, fp32_reason=self.fp32_reason)
        self.threads = configure_threads() if self.device.type == "cpu" else torch.get_num_threads()
        self.averages = RunningMeans()  # the loss and the objective's scalars since the last evaluation
        self._epoch_started = time.perf_counter()

    def fit(self, *, resume: bool = False) -> TrainerState:
        """Train for the configured epochs (or until a callback stops it) and return the final state.

        Args:
            resume: Continue from the newest checkpoint in the run's ``checkpoints`` folder.
        """
        settings, model = self.settings, self.model.to(self.device)
        if settings.fast_dropout:
            use_fast_dropout(model)
        optimizer = settings.optimizer.create(model)
        counts = [batch_counts(self._streams(epoch)) for epoch in range(settings.epochs)]
        lengths = plan_lengths(self.sampler, counts, seed=self.seed, epochs=settings.epochs)
        total_steps = sum(math.ceil(length / settings.accumulation_steps) for length in lengths)
        self.objective.setup(
            model, tasks={name: self.tasks[name] for name in self.train_data}, total_steps=total_steps
        )
        self.objective.check_data(self.train_data)
        for module in self.objective.modules().values():  # not trained: not in the optimizer, no grads
            module.to(self.device).requires_grad_(False)
        self.forward_model: torch.nn.Module = model
        if self.dist.enabled:  # one head runs per step, so the others' parameters get no gradient
            self.forward_model = DistributedDataParallel(model, find_unused_parameters=True)
        self.parts = TrainingParts(
            model=model,
            optimizer=optimizer,
            scheduler=settings.scheduler.create(optimizer, total_steps),
            scaler=make_grad_scaler(self.device, self.precision),
            sampler=self.sampler,
            objective=self.objective,
            averages=self.averages,
        )
        state = self._resume() if resume else TrainerState(total_steps=total_steps)
        control = TrainerControl(should_stop=state.stopped)
        if settings.progress_bar and self.dist.is_main:
            tqdm.write(self.describe_hardware(), file=sys.stderr)
        for callback in self.callbacks:
            callback.setup(run_dir=self.run.path, is_main=self.dist.is_main)
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

    def describe_hardware(self) -> str:
        """Where and how the run trains, e.g. ``training on cpu (2 threads), precision bf16 (auto: ...)``."""
        where = f"{self.device} ({self.threads} threads)" if self.device.type == "cpu" else str(self.device)
        if self.dist.enabled:
            where += f", {self.dist.world_size} processes"
        line = f"training on {where}, precision {self.precision}"
        if self.settings.precision == "auto":
            native = native_bf16(self.device)
            why = f"{'' if native else 'no '}native bf16 here"
            line += f" (auto: {self.fp32_reason if native and self.fp32_reason else why})"
        return line

    def _streams(self, epoch: int) -> dict[str, BatchStream]:
        sizes = {name: self.tasks[name].settings.batch_size for name in self.train_data}
        return epoch_streams(self.train_data, sizes, seed=self.seed, epoch=epoch, share=self.dist.share)

    def _train_epoch(self, state: TrainerState, control: TrainerControl) -> bool:
        """Train the rest of the current epoch; return whether it ran to its end."""
        streams = self._streams(state.epoch)
        plan = self.sampler.plan(
            batch_counts(streams), epoch=state.epoch, seed=self.seed, total_epochs=self.settings.epochs
        )
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
        accumulated, accumulation = 0, self.settings.accumulation_steps
        for position in range(state.batches_done, len(plan)):
            name = plan[position]
            indices = streams[name][cursor[name]]
            cursor[name] += 1
            batch = make_batch(self.train_data[name], indices, self.model.encoder).to(self.device)
            step = Step(
                model=self.forward_model,
                module=self.model,
                batch=self.model.prepare(batch),  # once: every forward pass sees the same masks
                task=self.tasks[name],
                global_step=state.global_step,
                total_steps=state.total_steps,
                backward=self._backward,
            )
            with autocast(self.device, self.precision):
                result = self.objective(step)
            self._backward(result.loss)
            self.averages.add({"loss": result.loss, **result.scalars})
            if self._loggers:
                self._window.add({"loss": result.loss, **result.scalars})
            accumulated += 1
            state.batches_done = position + 1
            progress.update(1)
            if not progress.disable and (position % 10 == 0 or position == len(plan) - 1):
                shown = {key: f"{value:.4g}" for key, value in self.averages.means().items()}
                progress.set_postfix(shown, task=name, refresh=False)
            if accumulated == accumulation or position == len(plan) - 1:
                self._optimizer_step()
                accumulated = 0
                state.global_step += 1
                self.objective.on_step_end(
                    self.model, global_step=state.global_step, total_steps=state.total_steps
                )
                for callback in self.callbacks:
                    callback.on_step_end(state, control)
                if self._loggers and state.global_step % self.settings.log_every == 0:
                    self._log(state, control)
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

    def _log(self, state: TrainerState, control: TrainerControl) -> None:
        logs = {**self._window.means(), "lr": max(group["lr"] for group in self.parts.optimizer.param_groups)}
        self._window.reset()
        for callback in self._loggers:
            callback.on_log(state, control, logs)

    def _backward(self, loss: torch.Tensor) -> None:
        """Back-propagate a batch's loss (or part of it), outside autocast, accumulated and scaled."""
        with torch.autocast(self.device.type, enabled=False):
            self.parts.scaler.scale(loss / self.settings.accumulation_steps).backward()  # type: ignore[no-untyped-call]

    def _optimizer_step(self) -> None:
        optimizer, scaler = self.parts.optimizer, self.parts.scaler
        if self.settings.grad_clip is not None:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        self.parts.scheduler.step()
        optimizer.zero_grad(set_to_none=True)

    def _evaluate(self, state: TrainerState, control: TrainerControl) -> None:
        """Score the dev data and update the state; the run directory keeps the record and best model."""
        started = time.perf_counter()
        metrics = evaluate_tasks(  # in fp32 whatever the training's precision, as `mtdnn evaluate`
            self.model,
            self.tasks,
            self.dev_data,
            device=self.device,
            precision="fp32",
            dist=self.dist,
        )
        score = validation_score(metrics, self.settings.validation_metric) if metrics else None
        improved = state.record_evaluation(metrics, score)
        record: dict[str, Any] = {
            "epoch": state.epoch + 1,
            "step": state.global_step,
            "dev": metrics,
            "score": score,
            "best": improved,
            "train": self.averages.means(all_ranks=self.dist.enabled),
            "train_seconds": round(started - self._epoch_started, 2),
            "eval_seconds": round(time.perf_counter() - started, 2),
            "world_size": self.dist.world_size,
            "precision": self.precision,
            "threads": self.threads,
        }
        self.averages.reset()
        if self.dist.is_main:
            self.run.add_evaluation(record, best=self.model if improved else None)
        logger.info(
            "epoch %d: %s (score %s%s)", state.epoch + 1, metrics, score, ", best" if improved else ""
        )
        for callback in self.callbacks:
            callback.on_evaluate(state, control, metrics)

    def _checkpoint(self, state: TrainerState) -> None:
        if self.dist.is_main:
            save_training(self.run.checkpoints, self.parts, state, keep=self.settings.keep_checkpoints)

    def _resume(self) -> TrainerState:
        if self.dist.is_main:  # put back what a crash inside a write left, before anyone reads
            self.run.recover()
        self.dist.barrier()
        state = restore_training(self.run.checkpoints, self.parts, self.device)
        if self.dist.is_main:
            self.run.truncate_records(keep=state.evaluations)
        return state
