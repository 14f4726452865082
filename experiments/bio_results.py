"""Reproduce the biomedical tables of docs/results.md: NER, ChemProt, GAD cross-validation, multi-task.

With MiniLM it trains each NER corpus alone (configs/bio/ner.jsonnet) and ChemProt alone
(configs/bio/chemprot.jsonnet), then the NER corpora and ChemProt together
(configs/bio/multitask.jsonnet), and scores every model on the official *test* files. GAD (or
EU-ADR) is cross-validated over BioBERT's 10 folds (configs/bio/relation_cv.jsonnet). Finished
runs are reused. The tables go to standard output as markdown.

    python experiments/bio_results.py --runs runs/bio --ner NCBI-disease-IOB BC5CDR-IOB BC2GM-IOB
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from glue_results import ROOT, add_run_arguments, run

from mtdnn_bio.readers import BioRelationReader

NAMES = {"NCBI-disease-IOB": "ncbi", "BC5CDR-IOB": "bc5cdr", "BC2GM-IOB": "bc2gm"}


def test_scores(run_dir: Path) -> dict[str, dict[str, float]]:
    """Score a finished run on its tasks' test files (cached in ``test_metrics.json``)."""
    path = run_dir / "test_metrics.json"
    if not path.is_file():
        command = [sys.executable, str(ROOT / "cli.py"), "evaluate", str(run_dir), "--split", "test"]
        command += ["--output-json", str(path), "--predictions", str(run_dir / "test_predictions")]
        print("+", " ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
    scores: dict[str, dict[str, float]] = json.loads(path.read_text())
    return scores


def all_positive(corpus: Path, folds: range) -> dict[str, float]:
    """P, R and F1 of labelling every test pair as related, averaged over the folds: the floor."""
    shares = []
    for fold in folds:
        labels = [example.label for example in BioRelationReader().read(corpus / str(fold) / "test.tsv")]
        shares.append(labels.count("1") / len(labels))
    return {
        "precision": statistics.mean(shares),
        "recall": 1.0,
        "f1": statistics.mean(2 * share / (1 + share) for share in shares),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="the corpora")
    parser.add_argument("--ner", nargs="*", default=list(NAMES), help="NER corpus folders")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--ner-epochs", nargs="*", default=[], help="CORPUS=N overrides --epochs")
    parser.add_argument("--multitask", nargs="*", default=["NCBI-disease-IOB", "BC5CDR-IOB"])
    parser.add_argument("--cv", default="GAD", help="GAD or euadr ('' to skip)")
    parser.add_argument("--cv-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    common = ["-A", f"data_root={args.data_root}", "--tla-code", f"seed={args.seed}"]
    epochs = {corpus: args.epochs for corpus in args.ner} | {
        corpus: int(n) for corpus, n in (item.split("=") for item in args.ner_epochs)
    }
    single: dict[str, dict[str, float]] = {}
    for corpus in args.ner:
        run_dir = args.runs / f"{NAMES[corpus]}-seed{args.seed}"
        run(
            "configs/bio/ner.jsonnet",
            run_dir,
            [*common, "-A", f"corpus={corpus}", "--tla-code", f"epochs={epochs[corpus]}"],
        )
        single.update(test_scores(run_dir))
    chemprot_dir = args.runs / f"chemprot-seed{args.seed}"
    run("configs/bio/chemprot.jsonnet", chemprot_dir, [*common, "--tla-code", f"epochs={args.epochs}"])
    single.update(test_scores(chemprot_dir))
    together: dict[str, dict[str, float]] = {}
    if args.multitask:
        mt_dir = args.runs / f"multitask-seed{args.seed}"
        tlas = [*common, "-A", f"ner={','.join(args.multitask)}", "--tla-code", f"epochs={args.epochs}"]
        run("configs/bio/multitask.jsonnet", mt_dir, tlas)
        together = test_scores(mt_dir)
    print("| task (test set) | metric | single-task | multi-task |")
    print("|---|---|---|---|")
    for task, scores in single.items():
        both = together.get(task, {})
        for metric in [key for key in scores if key == "f1" or key.startswith("f1_")]:  # f1, then per type
            mt = f"{100 * both[metric]:.1f}" if metric in both else "-"
            print(f"| {task} | {metric} | {100 * scores[metric]:.1f} | {mt} |")
    if args.cv:
        cv_dir = args.runs / f"{args.cv.lower()}-cv-seed{args.seed}"
        command = [
            sys.executable,
            str(ROOT / "cli.py"),
            "cross-validate",
            str(ROOT / "configs/bio/relation_cv.jsonnet"),
        ]
        command += ["-s", str(cv_dir), "--folds", "1-10", "-A", f"corpus={args.cv}", *common]
        command += ["--tla-code", f"epochs={args.cv_epochs}"]
        print("+", " ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
        summary = json.loads((cv_dir / "cross_validation.json").read_text())
        task = args.cv.lower()
        print()
        print(f"| {args.cv} (10-fold) | precision | recall | f1 |")
        print("|---|---|---|---|")
        cells = [
            f"{100 * summary['mean'][task][k]:.1f} ± {100 * summary['std'][task][k]:.1f}"
            for k in ("precision", "recall", "f1")
        ]
        print(f"| MiniLM | {' | '.join(cells)} |")
        floor = all_positive(Path(args.data_root) / args.cv, range(1, 11))
        cells = [f"{100 * floor[k]:.1f}" for k in ("precision", "recall", "f1")]
        print(f"| every pair positive | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
