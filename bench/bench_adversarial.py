"""Benchmark: seconds per training step of each adversarial objective against plain training.

The job of ``bench_training.py`` (MiniLM, batch 32, max length 128, AdamW) on the first
``--batches`` batches of RTE, in one process: every objective trains the same batches, in
rounds that alternate between the objectives, so machine drift hits them all alike. Each
objective starts from the same weights; the first step of each is a warm-up and not timed.
It prints seconds per step and the ratio to ``task_loss``.

    python bench/bench_adversarial.py [--batches 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench_training import _train_file, cpu_name, mtdnn_config

ROOT = Path(__file__).resolve().parents[1]
OBJECTIVES: dict[str, dict[str, Any]] = {
    "task_loss": {"type": "task_loss"},
    "smart": {"type": "smart"},
    "smart, same_dropout": {"type": "smart", "same_dropout": True},
    "smart + proximal": {"type": "proximal", "inner": {"type": "smart"}},
    "freelb (3 steps)": {"type": "freelb"},
    "fgm": {"type": "fgm"},
    "pgd (3 steps)": {"type": "pgd"},
    "r_drop": {"type": "r_drop"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root", default=os.environ.get("MTDNN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--batches", type=int, default=8, help="batches per objective and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import torch

    from mtdnn.config import build
    from mtdnn.data import make_batch
    from mtdnn.experiment import build_experiment
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.training.objective import Objective, Step

    registry = build_registry(get_plugin_manager(autoload=False))
    limit = 32 * args.batches
    config = mtdnn_config(
        "rte", train=str(_train_file(Path(args.data_root), "rte")), batch_size=32, train_limit=limit
    )
    experiment = build_experiment(config, registry)
    task = experiment.tasks["rte"]
    start = experiment.model()
    data = task.load("train", start.encoder)
    batches = [range(i, min(i + 32, limit)) for i in range(0, limit, 32)]
    models, objectives, optimizers = {}, {}, {}
    for name, settings in OBJECTIVES.items():
        model = copy.deepcopy(start).train()
        objective = build(registry, Objective, settings, path="trainer.objective")
        objective.setup(model, tasks={"rte": task}, total_steps=len(batches) * args.rounds)
        models[name], objectives[name] = model, objective
        optimizers[name] = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)
    seconds: dict[str, list[float]] = {name: [] for name in OBJECTIVES}
    for round_ in range(args.rounds):
        for name in OBJECTIVES:
            model, objective, optimizer = models[name], objectives[name], optimizers[name]
            for number, indices in enumerate(batches):
                started = time.perf_counter()
                batch = model.prepare(make_batch(data, indices, model.encoder))
                step = Step(
                    model=model, module=model, batch=batch, task=task, global_step=number, total_steps=1
                )
                objective(step).loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                objective.on_step_end(model, global_step=number + 1, total_steps=len(batches))
                if round_ or number:  # the first step of each objective warms up
                    seconds[name].append(time.perf_counter() - started)
    plain = statistics.mean(seconds["task_loss"])
    print(
        f"{cpu_name()}, {torch.get_num_threads()} threads; RTE, MiniLM, batch 32, "
        f"{args.batches} batches x {args.rounds} rounds"
    )
    print("\n| objective | s/step | vs task_loss |\n| --- | --- | --- |")
    for name, values in seconds.items():
        mean = statistics.mean(values)
        print(f"| {name} | {mean:.2f} | {mean / plain:.2f}x |")


if __name__ == "__main__":
    main()
