"""Benchmark: teachers against their distilled students, side by side: size, dev score, latency, throughput.

For each trained run given (a teacher and its students), on one task's dev file: the number of
parameters, the best dev score in the run's metrics, the CPU latency of predicting one example
(raw text to a record, as ``mtdnn predict`` does after loading; median over ``--single``
repeats) and the throughput at batch 32 (examples per second over the first ``--examples`` dev
examples). The runs are measured in rounds that alternate between them, one process, nothing
else running; the ratios to the first run are what to compare.

    python bench/bench_students.py --task rte runs/teacher runs/student-minilm3 runs/student-lstm
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench_training import FOLDERS, cpu_name

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="the teacher first, then its students")
    parser.add_argument("--task", required=True)
    parser.add_argument(
        "--data-root", default=os.environ.get("MTDNN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--examples", type=int, default=256, help="dev examples for the throughput")
    parser.add_argument("--single", type=int, default=30, help="repeats of the one-example latency")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    from mtdnn.api.predict import predict_examples
    from mtdnn.archive import load_run
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.readers import GlueReader
    from mtdnn.rundir import RunDirectory
    from mtdnn.types import Example

    registry = build_registry(get_plugin_manager())
    dev = list(GlueReader(args.task).read(Path(args.data_root) / "glue" / FOLDERS[args.task] / "dev.tsv"))
    raw = [Example(id=e.id, text_a=e.text_a, text_b=e.text_b) for e in dev[: args.examples]]
    loaded: dict[Path, Any] = {}
    facts: dict[Path, dict[str, Any]] = {}
    for run in args.runs:
        experiment, model = load_run(run, registry)
        experiment.tasks[args.task].settings.eval_batch_size = 32
        loaded[run] = (experiment, model.eval())
        best = [r for r in RunDirectory(run).read_records() if r["best"]][-1]["dev"][args.task]
        facts[run] = {"parameters": sum(p.numel() for p in model.parameters()), "dev": best}
    latency: dict[Path, list[float]] = {run: [] for run in args.runs}
    throughput: dict[Path, list[float]] = {run: [] for run in args.runs}
    for _ in range(args.rounds):
        for run, (experiment, model) in loaded.items():
            predict_examples(experiment, model, raw[:1], task=args.task, device="cpu")  # warm-up
            for number in range(args.single // args.rounds or 1):
                started = time.perf_counter()
                predict_examples(
                    experiment,
                    model,
                    raw[number % len(raw) : number % len(raw) + 1],
                    task=args.task,
                    device="cpu",
                )
                latency[run].append(time.perf_counter() - started)
            started = time.perf_counter()
            predict_examples(experiment, model, raw, task=args.task, device="cpu")
            throughput[run].append(len(raw) / (time.perf_counter() - started))
    first = args.runs[0]
    print(
        f"{cpu_name()}, {torch.get_num_threads()} threads; {args.task} dev, {len(raw)} examples at batch 32"
    )
    print("\n| run | parameters | dev | latency, 1 example | speed-up | examples/s at 32 | speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    base_one, base_many = statistics.median(latency[first]), statistics.median(throughput[first])
    for run in args.runs:
        one, many = statistics.median(latency[run]), statistics.median(throughput[run])
        dev_scores = ", ".join(f"{k} {v:.4f}" for k, v in facts[run]["dev"].items())
        size = facts[run]["parameters"] / 1e6
        print(
            f"| {run} | {size:.1f} M | {dev_scores} | {one * 1000:.1f} ms | {base_one / one:.2f}x "
            f"| {many:.1f} | {many / base_many:.2f}x |"
        )


if __name__ == "__main__":
    main()
