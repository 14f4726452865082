"""Reproduce the adversarial-training table of docs/results.md (the MT-DNN toolkit's Table 2 at our scale).

For every seed, one after another: each task alone, each task alone with SMART, all tasks
together, all tasks together with SMART, and one task alone with SMART and its proximal term
(configs/glue/single_task.jsonnet and multitask.jsonnet with an ``objective``); with ``--ner``
also NCBI-disease NER with and without SMART (configs/bio/ner.jsonnet). It prints the best dev
score of every setting as mean ± standard deviation over the seeds (the cost of each objective
is measured side by side by bench/bench_adversarial.py instead). Finished runs are reused and interrupted
ones resumed, so the sweep can be stopped and started again; ``--report`` prints the table of
the runs finished so far without training anything.

Every run is in fp32 (SMART's perturbations need it, see docs/adversarial.md, and the rows
must differ only in the objective), whatever ``precision: 'auto'`` would pick on the machine.

    python experiments/adversarial_results.py --runs runs/adversarial --seeds 1 2 3 --ner > table.md
"""

from __future__ import annotations

import argparse

from glue_results import (
    Sweep,
    _mean_std,
    add_run_arguments,
    add_sweep_arguments,
    ner_tlas,
    parse_limits,
    score_rows,
    seed_tlas,
    single_task_tlas,
)

SMART = "{type: 'smart'}"
SMART_PROXIMAL = "{type: 'proximal', mu: 1.0, inner: {type: 'smart'}}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/ and NCBI-disease-IOB/")
    add_sweep_arguments(parser, tasks=["rte", "mrpc", "sst2"], limits=["sst2=3000"])
    parser.add_argument(
        "--proximal-task", default="rte", help="the task trained alone with SMART + proximal term"
    )
    parser.add_argument("--ner", action="store_true", help="also NCBI-disease NER with and without SMART")
    parser.add_argument("--ner-seeds", nargs="+", type=int, help="seeds of the NER runs (default: --seeds)")
    args = parser.parse_args()
    limits, limit_code = parse_limits(args.limits)
    sweep = Sweep(args.runs, args.report)
    for seed in args.seeds:
        common = seed_tlas(args.data_root, seed, args.epochs)
        for task in args.tasks:
            single = single_task_tlas(common, task, limits)
            sweep.add(
                "single-task", f"single-{task}-seed{seed}", "configs/glue/single_task.jsonnet", single, [task]
            )
            sweep.add(
                "single-task + SMART",
                f"single-smart-{task}-seed{seed}",
                "configs/glue/single_task.jsonnet",
                [*single, "--tla-code", f"objective={SMART}"],
                [task],
            )
            if task == args.proximal_task:
                sweep.add(
                    "single-task + SMART + proximal",
                    f"single-smart-proximal-{task}-seed{seed}",
                    "configs/glue/single_task.jsonnet",
                    [*single, "--tla-code", f"objective={SMART_PROXIMAL}"],
                    [task],
                )
        multi = [*common, "-A", f"tasks={','.join(args.tasks)}", "--tla-code", f"limits={limit_code}"]
        sweep.add("multi-task", f"multitask-seed{seed}", "configs/glue/multitask.jsonnet", multi, args.tasks)
        sweep.add(
            "multi-task + SMART",
            f"multitask-smart-seed{seed}",
            "configs/glue/multitask.jsonnet",
            [*multi, "--tla-code", f"objective={SMART}"],
            args.tasks,
        )
    if args.ner:
        for seed in args.ner_seeds or args.seeds:
            ner = ner_tlas(args.data_root, seed, args.epochs)
            sweep.add("NER", f"ncbi-seed{seed}", "configs/bio/ner.jsonnet", ner, ["ncbi"])
            smart = [*ner, "--tla-code", f"objective={SMART}"]
            sweep.add("NER + SMART", f"ncbi-smart-seed{seed}", "configs/bio/ner.jsonnet", smart, ["ncbi"])
    print(report(sweep, args.tasks))


def report(sweep: Sweep, tasks: list[str]) -> str:
    """The GLUE table and the NER table (if run), in markdown."""
    settings = [
        "single-task",
        "single-task + SMART",
        "single-task + SMART + proximal",
        "multi-task",
        "multi-task + SMART",
    ]
    lines = score_rows(sweep.scores, tasks, settings)
    ner = [(s, sweep.scores.get((s, "ncbi"), [])) for s in ("NER", "NER + SMART")]
    if any(runs for _, runs in ner):
        lines += ["", "| setting | seeds | ncbi (f1 / precision / recall) |", "|---|---|---|"]
        for setting, runs in ner:
            if runs:
                scores = " / ".join(
                    _mean_std([r[key] for r in runs]) for key in ("f1", "precision", "recall")
                )
                lines.append(f"| {setting} | {len(runs)} | {scores} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
