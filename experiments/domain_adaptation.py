"""Reproduce the domain-adaptation curve of docs/results.md: SNLI accuracy vs share of its training data.

For every seed and share it trains SNLI (configs/nli/snli_adaptation.jsonnet) twice: from the
plain encoder and from the encoder of a multi-task GLUE run (``--multitask``, a run of
glue_results.py; the same multi-task run serves every seed). It reports the best dev accuracy as
mean and standard deviation over the seeds, as a markdown table. Finished runs are reused.

    python experiments/domain_adaptation.py --runs runs/snli --multitask runs/glue/multitask-seed1 > curve.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from glue_results import _mean_std, add_run_arguments, run

CONFIG = "configs/nli/snli_adaptation.jsonnet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="SNLI/")
    parser.add_argument("--multitask", type=Path, required=True, help="the multi-task run to start from")
    parser.add_argument("--fractions", nargs="+", type=float, default=[0.05, 0.1, 0.25, 1.0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    args = parser.parse_args()
    starts = {"plain encoder": [], "multi-task encoder": ["-A", f"init_from={args.multitask.resolve()}"]}
    lines = [
        f"| share of training data ({len(args.seeds)} seeds) | " + " | ".join(starts) + " |",
        "|---" * (len(starts) + 1) + "|",
    ]
    for fraction in args.fractions:
        cells = []
        for extra in starts.values():
            scores = []
            for seed in args.seeds:
                name = f"{'mt' if extra else 'plain'}-{fraction:g}-seed{seed}"
                tlas = ["-A", f"data_root={args.data_root}", "--tla-code", f"fraction={fraction}"]
                tlas += ["--tla-code", f"seed={seed}", *extra]
                scores.append(run(CONFIG, args.runs / name, tlas)["snli"]["accuracy"])
            cells.append(_mean_std(scores))
        lines.append(f"| {100 * fraction:g} % | " + " | ".join(cells) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
