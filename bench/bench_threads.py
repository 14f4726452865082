"""Benchmark: two training processes at once on a small machine, with torch's thread settings varied.

Each job is ``bench_training.py --child mtdnn`` (MiniLM on the first ``--examples`` RTE pairs,
one epoch). It first runs one job alone (with torch's defaults, then with passive waiting), then
pairs of jobs started together under each setting, and prints the wall-clock seconds until both
finished against running the two one after another (twice the lone job with the defaults):

- ``default``: torch's default threads (one per core) and libgomp's default waiting (idle threads
  spin a while before they sleep) in both;
- ``passive``: the same with ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep instead of
  spinning, so they give the cores to the other process);
- ``1 thread``: ``OMP_NUM_THREADS=1`` in both.

Run it on an otherwise idle machine: it is itself the load it measures.

    python bench/bench_threads.py [--examples 320]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_training import cpu_name

ROOT = Path(__file__).resolve().parents[1]
SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "1 thread": {"OMP_NUM_THREADS": "1"},
}


def jobs(count: int, extra_env: dict[str, str], args: argparse.Namespace) -> tuple[float, list[float]]:
    """Start ``count`` jobs together; return the wall seconds until all ended and each one's loop seconds."""
    command = [sys.executable, str(ROOT / "bench" / "bench_training.py"), "--child", "mtdnn"]
    command += ["--task", "rte", "--precision", "fp32", "--examples", str(args.examples)]
    command += ["--data-root", str(args.data_root)]
    env = {**os.environ, **extra_env}
    for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY"):  # unset: torch's and libgomp's defaults
        if name not in extra_env:
            env.pop(name, None)
    started = time.perf_counter()
    running = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [process.communicate()[0] for process in running]
    wall = time.perf_counter() - started
    if any(process.returncode for process in running):
        raise SystemExit("a job failed")
    reports = [
        json.loads(
            next(line for line in out.splitlines() if line.startswith("REPORT ")).removeprefix("REPORT ")
        )
        for out in outputs
    ]
    return wall, [report["seconds"] for report in reports]


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=320, help="RTE training pairs per job")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    print("running one job alone ...", file=sys.stderr, flush=True)
    alone, [alone_loop] = jobs(1, {}, args)
    rows = [("one job alone, default", alone, [alone_loop], None)]
    passive, passive_loops = jobs(1, SETTINGS["passive"], args)  # what passive costs a lone job
    rows.append(("one job alone, passive", passive, passive_loops, None))
    for name, env in SETTINGS.items():
        print(f"running two jobs together, {name} ...", file=sys.stderr, flush=True)
        wall, loops = jobs(2, env, args)
        rows.append((f"two jobs together, {name}", wall, loops, wall / (2 * alone)))
    print(f"{args.examples} RTE pairs per job, MiniLM, one epoch; {cpu_name()}")
    print("| setting | wall seconds | each job's training loop (s) | vs one after another |")
    print("| --- | --- | --- | --- |")
    for label, wall, loops, ratio in rows:
        relative = "-" if ratio is None else f"{ratio:.2f}x"
        print(f"| {label} | {wall:.0f} | {', '.join(f'{s:.0f}' for s in loops)} | {relative} |")


if __name__ == "__main__":
    main()
