"""Benchmark: data-parallel training on one machine: 2 processes x 1 thread against 1 process x 2 threads.

The job: ``mtdnn train`` of MiniLM on RTE (the first ``--examples`` training pairs, the whole dev
set of 277 pairs, one epoch, batch 32). It runs once as one process with two threads and once under
``torchrun --nproc_per_node=2`` with ``OMP_NUM_THREADS=1`` (gloo on the CPU), one after the other,
and prints the training-loop and evaluation seconds from ``metrics.jsonl``: under ``torchrun``
each rank takes every other batch of the training data and of the dev set.

    python bench/bench_ddp.py [--examples 640]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_training import FOLDERS, cpu_name, mtdnn_config

ROOT = Path(__file__).resolve().parents[1]


def config(data_root: Path, examples: int) -> dict[str, Any]:
    folder = data_root / "glue" / FOLDERS["rte"]
    train, dev = str(folder / "train.tsv"), str(folder / "dev.tsv")
    experiment = mtdnn_config("rte", train=train, dev=dev, batch_size=32, train_limit=examples)
    trainer = {
        "epochs": 1,
        "optimizer": {"type": "adamw", "lr": 5e-5},
        "progress_bar": False,
        "device": "cpu",
    }
    return {**experiment, "trainer": trainer}


def run(layout: str, config_path: Path, run_dir: Path) -> dict[str, float]:
    """Train in ``layout`` (``1x2`` or ``2x1``); return its seconds."""
    train = [str(ROOT / "cli.py"), "train", str(config_path), "-s", str(run_dir)]
    env = {**os.environ, "MTDNN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if layout == "2x1":
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            *train,
        ]
        env["OMP_NUM_THREADS"] = "1"
    else:
        command = [sys.executable, *train]
        env.pop("OMP_NUM_THREADS", None)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    from mtdnn.rundir import RunDirectory

    [record] = RunDirectory(run_dir).read_records()
    return {
        "train": record["train_seconds"],
        "eval": record["eval_seconds"],
        "wall": wall,
        "accuracy": record["dev"]["rte"]["accuracy"],
    }


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=640, help="RTE training pairs")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "rte.json"
        config_path.write_text(json.dumps(config(args.data_root, args.examples)))
        for layout in ("1x2", "2x1"):
            print(f"running {layout} ...", file=sys.stderr, flush=True)
            results[layout] = run(layout, config_path, Path(folder) / layout)
    print(f"RTE, {args.examples} training pairs, 277 dev pairs, MiniLM, one epoch; {cpu_name()}")
    print("| processes x threads | training loop (s) | evaluation (s) | whole command (s) | dev accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for layout, seconds in results.items():
        label = {"1x2": "1 x 2", "2x1": "2 x 1 (torchrun, gloo)"}[layout]
        print(
            f"| {label} | {seconds['train']:.1f} | {seconds['eval']:.1f} | {seconds['wall']:.1f} | "
            f"{seconds['accuracy']:.4f} |"
        )


if __name__ == "__main__":
    main()
