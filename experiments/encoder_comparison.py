"""Compare encoders on GLUE tasks trained alone: dev accuracy, training seconds per epoch, parameters.

For every task and seed it trains the BiLSTM encoder (configs/glue/lstm_single_task.jsonnet, spaCy
words with a vocabulary from the training file, and MiniLM's tokenizer with its word embeddings)
and MiniLM (configs/glue/single_task.jsonnet), then prints a markdown table: the best dev accuracy
(mean ± std over the seeds), the mean wall-clock seconds of a training epoch (evaluation not
included) and the trainable parameters of encoder and head. Finished runs are reused.

    python experiments/encoder_comparison.py --runs runs/encoders --tasks sst2 rte --limits sst2=3000
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from glue_results import _mean_std, add_run_arguments, run

from mtdnn.rundir import RunDirectory

# run-directory name -> (table label, config, extra arguments)
ENCODERS = {
    "lstm-words": ("BiLSTM, spaCy words", "configs/glue/lstm_single_task.jsonnet", []),
    "lstm-minilm": (
        "BiLSTM, MiniLM word embeddings",
        "configs/glue/lstm_single_task.jsonnet",
        ["-A", "tokenizer=all_minilm_l6_v2", "-A", "embeddings_from=all_minilm_l6_v2"],
    ),
    "minilm": ("MiniLM (6-layer Transformer)", "configs/glue/single_task.jsonnet", []),
}


def parameters(run_dir: Path) -> int:
    """Number of values in the saved encoder and heads (the trainable parameters, frozen ones included)."""
    from safetensors import safe_open

    run = RunDirectory(run_dir)
    files = [*run.encoder.glob("*.safetensors"), run.heads]
    total = 0
    for path in files:
        with safe_open(str(path), "pt") as tensors:
            total += sum(math.prod(tensors.get_slice(key).get_shape()) for key in tensors.keys())  # noqa: SIM118
    return total


def epoch_seconds(run_dir: Path) -> float:
    """Mean training seconds per epoch, from the ``train_seconds`` of ``metrics.jsonl``."""
    records = RunDirectory(run_dir).read_records()
    return statistics.mean(record["train_seconds"] for record in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/")
    parser.add_argument("--tasks", nargs="+", default=["sst2", "rte"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--limits", nargs="*", default=[], help="TASK=N caps a task's training examples")
    parser.add_argument(
        "--timing-seeds",
        nargs="*",
        type=int,
        help="report the seconds per epoch of these seeds only (those that ran alone on the machine); "
        "default: all seeds",
    )
    args = parser.parse_args()
    timed = set(args.seeds if not args.timing_seeds else args.timing_seeds)
    limits = dict(item.split("=") for item in args.limits)
    lines = [
        "| task | encoder | dev accuracy | seconds per epoch | parameters |",
        "|---|---|---|---|---|",
    ]
    for task in args.tasks:
        for name, (label, config, extra) in ENCODERS.items():
            scores, seconds, sizes = [], [], []
            for seed in args.seeds:
                run_dir = args.runs / f"{task}-{name}-seed{seed}"
                tlas = [
                    "-A",
                    f"data_root={args.data_root}",
                    "-A",
                    f"task={task}",
                    "--tla-code",
                    f"seed={seed}",
                ]
                tlas += ["--tla-code", f"train_limit={limits[task]}"] if task in limits else []
                scores.append(run(config, run_dir, [*tlas, *extra])[task]["accuracy"])
                if seed in timed:
                    seconds.append(epoch_seconds(run_dir))
                sizes.append(parameters(run_dir))
            lines.append(
                f"| {task} | {label} | {_mean_std(scores)} | {statistics.mean(seconds):.0f} | "
                f"{statistics.mean(sizes) / 1e6:.1f} M |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
