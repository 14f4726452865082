"""Reproduce the table of plugins/crf/README.md: the CRF head against the tagging head on NCBI-disease.

For every seed, one after another: NCBI-disease NER with MiniLM, trained with the ``tagging``
head and with the ``crf`` head (plugins/crf/src/mtdnn_crf/examples/ncbi.jsonnet, which differs
between the two only in the head and its loss). It prints each head's best dev entity F1 and
the test F1 of that model (``mtdnn evaluate --split test``), mean ± sd over the seeds, and the
training seconds per epoch from the runs' metrics.jsonl (for speed measured side by side, run
bench/bench_crf.py on a quiet machine). Finished runs are reused and interrupted ones resumed.

    python experiments/crf_comparison.py --runs runs/crf --seeds 1 > table.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from glue_results import ROOT, _mean_std, add_run_arguments, run

from mtdnn.rundir import RunDirectory

CONFIG = "plugins/crf/src/mtdnn_crf/examples/ncbi.jsonnet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="NCBI-disease-IOB/")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for head in ("tagging", "crf"):
        dev, test, seconds = [], [], []
        for seed in args.seeds:
            run_dir = args.runs / f"ncbi-{head}-seed{seed}"
            tlas = ["-A", f"data_root={args.data_root}", "-A", f"head={head}"]
            tlas += ["--tla-code", f"seed={seed}", "--tla-code", f"epochs={args.epochs}"]
            dev.append(run(CONFIG, run_dir, tlas)["ncbi"])
            scores = run_dir / "test.json"
            if not scores.is_file():
                command = [sys.executable, str(ROOT / "cli.py"), "evaluate", str(run_dir), "--split", "test"]
                subprocess.run([*command, "--output-json", str(scores)], check=True, stdout=sys.stderr)
            test.append(json.loads(scores.read_text())["ncbi"])
            seconds += [record["train_seconds"] for record in RunDirectory(run_dir).read_records()]
        rows.append(
            f"| {head} | {len(args.seeds)} | {_mean_std([d['f1'] for d in dev])} | "
            f"{_mean_std([t['f1'] for t in test])} | {statistics.mean(seconds):.0f} |"
        )
    print("| head | seeds | dev entity F1 | test entity F1 | training s/epoch |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
