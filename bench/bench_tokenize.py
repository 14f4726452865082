"""Benchmark: seconds to read and tokenize a whole GLUE training file with MiniLM's tokenizer.

Whether a tokenization cache would pay: compare with the seconds of a training epoch on the file.

    python bench/bench_tokenize.py [--task sst2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench_training import _train_file, cpu_name, mtdnn_config

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    from mtdnn.experiment import build_experiment
    from mtdnn.hooks import build_registry, get_plugin_manager

    config = mtdnn_config(args.task, train=str(_train_file(args.data_root, args.task)))
    experiment = build_experiment(config, build_registry(get_plugin_manager(autoload=False)))
    started = time.perf_counter()
    data = experiment.tasks[args.task].load("train", experiment.encoder)
    seconds = time.perf_counter() - started
    print(f"{args.task}: {len(data.examples)} examples read and tokenized in {seconds:.1f} s; {cpu_name()}")


if __name__ == "__main__":
    main()
