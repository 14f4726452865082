"""Benchmark: peak memory and speed of mtdnn training under the memory options, one process each.

The job of ``bench_training.py`` (MiniLM, batch 32, max length 128, one epoch) on the first
``--examples`` RTE pairs, with the options ``pad_to_multiple_of`` (the ``hf`` encoder) and the
``trim_memory`` callback (``every``, ``mmap_threshold``) varied, and torch's own
``THP_MEM_ALLOC_ENABLE=1`` (transparent huge pages for tensors of 2 MiB or more; an environment
variable torch reads once, so it is set for the variant's process). Each variant runs in its own
process, one after another, and reports examples/s, the peak RSS after the first and the 20th
optimizer step, and the peak RSS of the whole process. Padding every batch to 128 tokens (almost
all of RTE's pairs reach the maximum length of 128 in a batch of random pairs, so that is the HF
Trainer's shape) shows what the many batch shapes of length buckets cost in memory.
``--variants`` picks some; ``--precision`` is the trainer's.

    python bench/bench_memory.py [--examples 1280] [--precision fp32] [--variants NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench_training import cpu_name, run_mtdnn

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
# name -> (label, pad_to_multiple_of, trim every N steps or None, mmap threshold or None, environment)
VARIANTS: dict[str, tuple[str, int, int | None, int | None, dict[str, str]]] = {
    "shipped": ("as shipped", 1, None, None, {}),
    "pad16": ("padded to a multiple of 16", 16, None, None, {}),
    "trim1": ("trim every step", 1, 1, None, {}),
    "trim10": ("trim every 10 steps", 1, 10, None, {}),
    "pad16-trim10": ("padded to 16, trim every 10 steps", 16, 10, None, {}),
    "pad128": ("padded to 128 (one batch shape, as the HF Trainer's)", 128, None, None, {}),
    "mmap2": ("mmap threshold 2 MiB", 1, None, 2 * MIB, {}),
    "mmap2-trim10": ("mmap threshold 2 MiB, trim every 10 steps", 1, 10, 2 * MIB, {}),
    "mmap2-trim1": ("mmap threshold 2 MiB, trim every step", 1, 1, 2 * MIB, {}),
    "mmap05-trim10": ("mmap threshold 512 KiB, trim every 10 steps", 1, 10, MIB // 2, {}),
    "mmap2-thp": ("mmap threshold 2 MiB, huge pages", 1, None, 2 * MIB, {"THP_MEM_ALLOC_ENABLE": "1"}),
    "thp": ("huge pages (torch's THP_MEM_ALLOC_ENABLE=1)", 1, None, None, {"THP_MEM_ALLOC_ENABLE": "1"}),
}


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def child(args: argparse.Namespace) -> None:
    from mtdnn.training.callbacks import Callback

    _, pad, trim, threshold, _ = VARIANTS[args.child]
    peaks: dict[str, float] = {}

    class PeakAfterSteps(Callback):
        def on_step_end(self, state: Any, control: Any) -> None:
            if state.global_step in (1, 20):
                peaks[f"step {state.global_step}"] = peak_gb()

    examples, seconds = run_mtdnn(
        args.data_root,
        "rte",
        args.precision,
        args.examples,
        pad=pad,
        trim_every=trim,
        mmap_threshold=threshold,
        callbacks=[PeakAfterSteps()],
    )
    print(
        "REPORT " + json.dumps({"speed": examples / seconds, "peaks": peaks, "peak": peak_gb()}), flush=True
    )


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1280, help="RTE training pairs")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), help="by name"
    )
    parser.add_argument("--child", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for variant in args.variants:
        print(f"running {variant} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--child", variant, "--examples", str(args.examples)]
        command += ["--precision", args.precision]
        environment = {**os.environ, **VARIANTS[variant][4]}
        finished = subprocess.run(
            [*command, "--data-root", str(args.data_root)],
            capture_output=True,
            text=True,
            check=False,
            env=environment,
        )
        lines = [line for line in finished.stdout.splitlines() if line.startswith("REPORT ")]
        if finished.returncode != 0 or not lines:
            raise SystemExit(f"{variant} failed:\n{finished.stderr[-3000:]}")
        rows.append((VARIANTS[variant][0], json.loads(lines[-1].removeprefix("REPORT "))))
    print(f"RTE, {args.examples} training pairs, MiniLM, one epoch, {args.precision}; {cpu_name()}")
    print("| variant | examples/s | peak RSS after step 1 | after step 20 | whole process |")
    print("| --- | --- | --- | --- | --- |")
    for variant, report in rows:
        after = [f"{report['peaks'].get(step, float('nan')):.2f} GB" for step in ("step 1", "step 20")]
        print(f"| {variant} | {report['speed']:.1f} | {after[0]} | {after[1]} | {report['peak']:.2f} GB |")


if __name__ == "__main__":
    main()
