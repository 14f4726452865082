"""Reproduce BAM's table at our scale (docs/results.md): single-task, multi-task, single->multi distillation.

For every seed, one after another: each task alone (configs/glue/single_task.jsonnet; these are
the teachers), all tasks together (multitask.jsonnet), and all tasks together distilled from
that seed's single-task teachers (``mtdnn distill targets``, then multitask.jsonnet with a
``bam`` objective) with teacher annealing and with a fixed ``lambda`` of 0.5. It prints the best
dev score of every setting as mean ± standard deviation over the seeds. The single-task runs are
named as in adversarial_results.py, so the two drivers share them when given the same --runs.
Finished runs are reused and interrupted ones resumed; ``--report`` trains nothing.

    python experiments/distillation_results.py --runs runs/glue2 --seeds 1 2 3 > table.md
"""

from __future__ import annotations

import argparse

from glue_results import (
    Sweep,
    add_run_arguments,
    add_sweep_arguments,
    difference_rows,
    parse_limits,
    score_rows,
    seed_tlas,
    single_task_tlas,
    soft_targets,
)

SETTINGS = {
    "single->multi, teacher annealing": "{type: 'bam', targets: '%s'}",
    "single->multi, fixed lambda 0.5": "{type: 'bam', anneal: false, fixed: 0.5, targets: '%s'}",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/")
    add_sweep_arguments(
        parser, tasks=["rte", "mrpc", "stsb", "sst2", "cola"], limits=["sst2=3000", "cola=4000", "stsb=3000"]
    )
    args = parser.parse_args()
    limits, limit_code = parse_limits(args.limits)
    sweep = Sweep(args.runs, args.report)
    for seed in args.seeds:
        common = seed_tlas(args.data_root, seed, args.epochs)
        name = "-".join(args.tasks)
        targets = args.runs / f"targets-{name}-seed{seed}.safetensors"
        students = {
            setting: f"distill-{'anneal' if 'annealing' in setting else 'fixed'}-{name}-seed{seed}"
            for setting in SETTINGS
        }
        needed = not targets.is_file() and not all(map(sweep.recorded, students.values()))
        teachers = []
        for task in args.tasks:
            single = single_task_tlas(common, task, limits)
            config = "configs/glue/single_task.jsonnet"
            run_name = f"single-{task}-seed{seed}"
            sweep.add("single-task", run_name, config, single, [task], model=needed)
            teachers.append(args.runs / run_name)
        multi = [*common, "-A", f"tasks={','.join(args.tasks)}", "--tla-code", f"limits={limit_code}"]
        sweep.add(
            "multi-task", f"multitask-{name}-seed{seed}", "configs/glue/multitask.jsonnet", multi, args.tasks
        )
        if needed and not soft_targets(teachers, targets, report=args.report):
            continue
        for setting, objective in SETTINGS.items():
            run_name = students[setting]
            tlas = [*multi, "--tla-code", "objective=" + objective % targets]
            sweep.add(setting, run_name, "configs/glue/multitask.jsonnet", tlas, args.tasks)
    lines = score_rows(sweep.scores, args.tasks, ["single-task", "multi-task", *SETTINGS], average=True)
    annealing, fixed = SETTINGS
    pairs = [
        ("multi-task", "single-task"),
        (annealing, "multi-task"),
        (fixed, "multi-task"),
        (annealing, fixed),
    ]
    print("\n".join([*lines, "", *difference_rows(sweep.scores, args.tasks, pairs)]))


if __name__ == "__main__":
    main()
