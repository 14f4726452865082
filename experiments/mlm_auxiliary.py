"""Multi-task training with and without the masked-LM auxiliary task (over the tasks' own text).

For every seed it trains configs/glue/multitask.jsonnet on the given tasks twice, with
``mlm_auxiliary`` off and on, and prints the best dev scores as mean ± std over the seeds.
Finished runs are reused.

    python experiments/mlm_auxiliary.py --runs runs/mlm-aux --tasks rte mrpc --seeds 1 2 3
"""

from __future__ import annotations

import argparse

from glue_results import EXTRA, MAIN, _mean_std, add_run_arguments, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/")
    parser.add_argument("--tasks", nargs="+", default=["rte", "mrpc"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    header = [
        f"{task} ({MAIN[task]}" + (f" / {EXTRA[task]})" if task in EXTRA else ")") for task in args.tasks
    ]
    lines = [
        f"| setting ({len(args.seeds)} seeds) | " + " | ".join(header) + " |",
        "|---" * (len(header) + 1) + "|",
    ]
    for auxiliary in (False, True):
        results = []
        for seed in args.seeds:
            run_dir = args.runs / f"{'with' if auxiliary else 'without'}-mlm-seed{seed}"
            tlas = ["-A", f"data_root={args.data_root}", "-A", f"tasks={','.join(args.tasks)}"]
            tlas += ["--tla-code", f"seed={seed}", "--tla-code", f"epochs={args.epochs}"]
            tlas += ["--tla-code", f"mlm_auxiliary={str(auxiliary).lower()}"]
            results.append(run("configs/glue/multitask.jsonnet", run_dir, tlas))
        cells = []
        for task in args.tasks:
            cell = _mean_std([r[task][MAIN[task]] for r in results])
            if task in EXTRA:
                cell += " / " + _mean_std([r[task][EXTRA[task]] for r in results])
            cells.append(cell)
        label = "multi-task + masked-LM auxiliary" if auxiliary else "multi-task"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
