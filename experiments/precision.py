"""fp32 against bf16 autocast on a GLUE task that really learns: dev accuracy over seeds and speed.

The evidence that ``precision: 'auto'`` may become the default (issue 12): for every seed it trains
configs/glue/single_task.jsonnet once in fp32 and once in bf16 on the same device, then prints a
markdown table: the best dev accuracy (mean ± sd over the seeds), the mean training seconds per
epoch and the speed-up over fp32. Finished runs are reused and interrupted ones resumed.

Run it only where bf16 is native (a CUDA GPU with bf16, a CPU with AVX-512 BF16 or AMX): elsewhere
torch emulates bf16 a hundred times slower than fp32, and the driver refuses unless ``--force``.
Time every seed alone on the machine; the accuracy columns do not depend on it.

    python experiments/precision.py --runs runs/precision --task sst2 --train-limit 3000
"""

from __future__ import annotations

import argparse
import statistics

import torch
from encoder_comparison import epoch_seconds
from glue_results import _cpu, _mean_std, add_run_arguments, run

from mtdnn.training.device import native_bf16, select_device

PRECISIONS = ("fp32", "bf16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--train-limit", type=int, default=3000, help="training examples (0: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--force", action="store_true", help="run bf16 even where it is emulated")
    args = parser.parse_args()
    device = select_device("auto")
    if not native_bf16(device) and not args.force:
        raise SystemExit(
            f"bf16 is not native on {device} here (see bench/bench_peak.py); --force runs it anyway"
        )
    table = {}
    for precision in PRECISIONS:
        scores, seconds = [], []
        for seed in args.seeds:
            run_dir = args.runs / f"{args.task}-{precision}-seed{seed}"
            tlas = [
                "-A",
                f"data_root={args.data_root}",
                "-A",
                f"task={args.task}",
                "-A",
                f"precision={precision}",
            ]
            tlas += ["--tla-code", f"seed={seed}", "--tla-code", f"epochs={args.epochs}"]
            tlas += ["--tla-code", f"train_limit={args.train_limit}"] if args.train_limit else []
            scores.append(run("configs/glue/single_task.jsonnet", run_dir, tlas)[args.task]["accuracy"])
            seconds.append(epoch_seconds(run_dir))
        table[precision] = (scores, statistics.mean(seconds))
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{_cpu()} ({torch.backends.cpu.get_cpu_capability()})"
    )
    print(
        f"{args.task}, {args.train_limit or 'all'} training examples, {args.epochs} epochs, "
        f"seeds {args.seeds}; {name}"
    )
    print("| precision | dev accuracy | seconds per epoch | speed vs fp32 |")
    print("| --- | --- | --- | --- |")
    for precision, (scores, mean_seconds) in table.items():
        print(
            f"| {precision} | {_mean_std(scores)} | {mean_seconds:.1f} | "
            f"{table['fp32'][1] / mean_seconds:.2f}x |"
        )


if __name__ == "__main__":
    main()
