"""Reproduce the compression tables of docs/results.md: large teachers distilled into small students.

One task (SST-2, 3,000 training sentences, by default), one after another:

* teachers: all-mpnet-base-v2 fine-tuned (``--teacher-seeds``), and an ensemble of the MiniLM
  single-task runs of ``--seeds`` (named as in adversarial_results.py, so the drivers share them
  when given the same ``--runs``); the ensemble's dev score is its averaged probabilities' accuracy;
* students, for every seed: MiniLM (6 layers), MiniLM cut to its first 3 layers
  (``encoder_options={num_layers: 3}``) and the BiLSTM over spaCy words, each trained on the gold
  labels alone and with each teacher's soft targets (``--strategy``, ``hinton`` by default);
* with ``--transfer N``, the same three students of the first MPNet teacher on the first N
  training sentences (a transfer set: the teacher labels them with ``mtdnn distill targets
  --limit N``), their gold labels unused (``hinton`` with ``alpha: 1``), seeds ``--transfer-seeds``;
* with ``--ner`` (``--ner-only``: this part alone), the same at the token level: an
  NCBI-disease NER teacher (MiniLM) distilled into MiniLM-3 and into the BiLSTM, against the
  same students without distillation.

It prints, as markdown, the best dev score of every setting (mean ± standard deviation over the
seeds). Parameters and speed is measured separately, side by side in one quiet
process, by bench/bench_students.py. Finished runs are reused and interrupted ones resumed;
``--report`` trains nothing.

    python experiments/compression_results.py --runs runs/adversarial --seeds 1 2 3 --ner > table.md
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from glue_results import (
    MAIN,
    Sweep,
    _mean_std,
    add_run_arguments,
    ner_tlas,
    parse_limits,
    seed_tlas,
    single_task_tlas,
    soft_targets,
)

MINILM3 = "{num_layers: 3}"
LSTM_NER = "{type: 'lstm', tokenizer: 'words', hidden_size: 256, num_layers: 2, dropout: 0.2}"
NER_TASK = "ncbi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/ and NCBI-disease-IOB/")
    parser.add_argument("--task", default="sst2")
    parser.add_argument("--limits", nargs="*", default=["sst2=3000"], help="TASK=N caps training examples")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="students' seeds")
    parser.add_argument("--teacher-seeds", nargs="+", type=int, default=[1], help="the MPNet teachers' seeds")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of the Transformer runs")
    parser.add_argument("--lstm-epochs", type=int, default=5, help="epochs of the BiLSTM runs")
    parser.add_argument("--strategy", default="hinton", help="the distillation objective of the students")
    parser.add_argument(
        "--transfer",
        type=int,
        help="also students of the first MPNet teacher on the first N training sentences, their "
        "gold labels unused (hinton, alpha 1): a transfer set beyond the labelled --limits",
    )
    parser.add_argument("--transfer-seeds", nargs="+", type=int, default=[1], help="seeds of those")
    parser.add_argument("--ner", action="store_true", help="also NCBI-disease NER (token-level distillation)")
    parser.add_argument("--ner-only", action="store_true", help="only the token-level part")
    parser.add_argument("--ner-seeds", nargs="+", type=int, default=[1], help="seeds of the NER runs")
    parser.add_argument("--report", action="store_true", help="print finished runs only")
    args = parser.parse_args()
    sweep = Sweep(args.runs, args.report)
    lines = [] if args.ner_only else sentence_level(sweep, args)
    if args.ner or args.ner_only:
        lines += [""] if lines else []
        lines += ["| NER model | seeds | ncbi (f1 / precision / recall) |", "|---|---|---|"]
        ner_scores = ner(sweep, args)
        for setting, scores in ner_scores.items():
            cells = " / ".join(_mean_std([s[key] for s in scores]) for key in ("f1", "precision", "recall"))
            lines.append(f"| {setting} | {len(scores)} | {cells} |")
    print("\n".join(lines))


def sentence_level(sweep: Sweep, args: argparse.Namespace) -> list[str]:
    """The sentence-level part: the teachers of ``--task`` and their three students, as table lines."""
    limits, _ = parse_limits(args.limits)
    task, runs = args.task, args.runs

    ensemble_label = f"{len(args.seeds)} MiniLM seeds"
    seeds = {"MPNet": args.teacher_seeds, ensemble_label: args.seeds}
    targets = {  # named after their teachers' seeds, so that other --seeds never reuse them
        label: runs / f"targets-{_stem(label)}-{task}-seeds{'-'.join(map(str, seeds[label]))}.safetensors"
        for label in seeds
    }
    stems = {"MiniLM-6": task, "MiniLM-3": f"minilm3-{task}", "BiLSTM": f"lstm-{task}"}
    # a teacher's model is needed while its targets are missing and a student of them is unrecorded
    need = {
        label: not path.is_file()
        and not all(
            sweep.recorded(f"distill-{_stem(label)}-{stem}-seed{seed}")
            for seed in args.seeds
            for stem in stems.values()
        )
        for label, path in targets.items()
    }
    transfer = runs / f"targets-mpnet-{task}-seed{args.teacher_seeds[0]}-first{args.transfer}.safetensors"
    need_transfer = (
        bool(args.transfer)
        and not transfer.is_file()
        and not all(
            sweep.recorded(f"transfer{args.transfer}-mpnet-{stem}-seed{seed}")
            for seed in args.transfer_seeds
            for stem in stems.values()
        )
    )
    ensemble_dev = targets[ensemble_label].with_suffix(".dev.safetensors")
    ensemble_name = f"ensemble-{task}-seeds{'-'.join(map(str, args.seeds))}"
    need_dev = not ensemble_dev.is_file() and not sweep.recorded(ensemble_name)
    mpnet = []
    for seed in args.teacher_seeds:
        tlas = [*single_task_tlas(seed_tlas(args.data_root, seed, args.epochs), task, limits)]
        tlas += ["-A", "encoder=all_mpnet_base_v2"]
        name = f"single-mpnet-{task}-seed{seed}"
        model = need["MPNet"] or need_transfer
        sweep.add("teacher: all-mpnet-base-v2", name, SINGLE, tlas, [task], model=model)
        mpnet.append(runs / name)
    ensemble = []
    for seed in args.seeds:
        common = seed_tlas(args.data_root, seed, args.epochs)
        name = f"single-{task}-seed{seed}"
        tlas = single_task_tlas(common, task, limits)
        sweep.add("student: MiniLM-6", name, SINGLE, tlas, [task], model=need[ensemble_label] or need_dev)
        ensemble.append(runs / name)
    teachers = {"MPNet": mpnet, ensemble_label: ensemble}
    ready = {
        label: not need[label] or soft_targets(teachers[label], path, report=args.report)
        for label, path in targets.items()
    }
    dev_ready = not need_dev or soft_targets(ensemble, ensemble_dev, report=args.report, split="dev")
    sweep.add_derived(
        "teacher: ensemble of " + ensemble_label,
        ensemble_name,
        task,
        [path.name for path in ensemble],
        (lambda: {MAIN[task]: ensemble_accuracy(ensemble_dev, task)}) if dev_ready else None,
    )

    for seed in args.seeds:
        common = seed_tlas(args.data_root, seed, args.epochs)
        single = single_task_tlas(common, task, limits)
        lstm = [*single_task_tlas(seed_tlas(args.data_root, seed, args.lstm_epochs), task, limits)]
        students = {
            "MiniLM-6": (stems["MiniLM-6"], SINGLE, single),
            "MiniLM-3": (stems["MiniLM-3"], SINGLE, [*single, "--tla-code", f"encoder_options={MINILM3}"]),
            "BiLSTM": (stems["BiLSTM"], LSTM, lstm),
        }
        for student, (stem, config, tlas) in students.items():
            if student != "MiniLM-6":  # MiniLM-6 without a teacher is the ensemble's member above
                sweep.add(f"student: {student}", f"single-{stem}-seed{seed}", config, tlas, [task])
            for label, path in targets.items():
                if ready[label]:
                    objective = f"objective={{type: '{args.strategy}', targets: '{path}'}}"
                    name = f"distill-{_stem(label)}-{stem}-seed{seed}"
                    distilled = [*tlas, "--tla-code", objective]
                    sweep.add(f"student: {student} from {label}", name, config, distilled, [task])
    if args.transfer:
        transfer_students(sweep, args, mpnet[0], transfer, stems)
    lines = [f"| model | seeds | {task} ({MAIN[task]}) |", "|---|---|---|"]
    ordered = sorted(sweep.scores.items(), key=lambda item: not item[0][0].startswith("teacher"))
    for (setting, _), scores in ordered:
        lines.append(f"| {setting} | {len(scores)} | {_mean_std([s[MAIN[task]] for s in scores])} |")
    return lines


def transfer_students(
    sweep: Sweep, args: argparse.Namespace, teacher: Path, targets: Path, stems: dict[str, str]
) -> None:
    """Students of one MPNet teacher on the first ``--transfer`` training sentences, gold labels unused.

    The teacher was fine-tuned on the first ``--limits`` sentences; ``mtdnn distill targets
    --limit`` labels the larger set, and the students learn from its soft targets alone
    (``hinton`` with ``alpha: 1``), as Tang et al. (2019) distilled BERT into a BiLSTM.
    """
    task, size = args.task, args.transfer
    if not soft_targets([teacher], targets, report=args.report, limit=size):
        return
    objective = f"objective={{type: 'hinton', targets: '{targets}', alpha: 1.0}}"
    for seed in args.transfer_seeds:
        for student, stem in stems.items():
            epochs = args.lstm_epochs if student == "BiLSTM" else args.epochs
            tlas = single_task_tlas(seed_tlas(args.data_root, seed, epochs), task, {task: str(size)})
            tlas += ["--tla-code", f"encoder_options={MINILM3}"] if student == "MiniLM-3" else []
            config = LSTM if student == "BiLSTM" else SINGLE
            setting = f"student: {student} from MPNet, first {size:,} sentences, no gold labels"
            sweep.add(
                setting,
                f"transfer{size}-mpnet-{stem}-seed{seed}",
                config,
                [*tlas, "--tla-code", objective],
                [task],
            )


def ner(sweep: Sweep, args: argparse.Namespace) -> dict[str, list[dict[str, float]]]:
    """The token-level part: the NCBI-disease teacher and its MiniLM-3 and BiLSTM students."""
    runs, before = args.runs, set(sweep.scores)
    for seed in args.ner_seeds:
        teacher = f"ncbi-seed{seed}"
        tlas = ner_tlas(args.data_root, seed, args.epochs)
        targets = runs / f"targets-ncbi-seed{seed}.safetensors"
        stems = ("minilm3", "lstm")
        needed = not targets.is_file() and not all(
            sweep.recorded(f"distill-ncbi-{s}-seed{seed}") for s in stems
        )
        sweep.add("teacher: MiniLM-6", teacher, NER, tlas, [NER_TASK], model=needed)
        ready = not needed or soft_targets([runs / teacher], targets, report=args.report)
        lstm = [*ner_tlas(args.data_root, seed, args.lstm_epochs), "--tla-code", f"encoder={LSTM_NER}"]
        students = {
            "MiniLM-3": ("minilm3", [*tlas, "--tla-code", f"encoder_options={MINILM3}"]),
            "BiLSTM": ("lstm", [*lstm, "--tla-code", "lr=1e-3"]),
        }
        for student, (stem, student_tlas) in students.items():
            sweep.add(f"student: {student}", f"ncbi-{stem}-seed{seed}", NER, student_tlas, [NER_TASK])
            if ready:
                objective = f"objective={{type: '{args.strategy}', targets: '{targets}'}}"
                sweep.add(
                    f"student: {student} from MiniLM-6",
                    f"distill-ncbi-{stem}-seed{seed}",
                    NER,
                    [*student_tlas, "--tla-code", objective],
                    [NER_TASK],
                )
    return {setting: scores for (setting, _), scores in sweep.scores.items() if (setting, _) not in before}


def _stem(teacher: str) -> str:
    return "mpnet" if teacher == "MPNet" else "ensemble"


def ensemble_accuracy(path: Path, task: str) -> float:
    """The accuracy on the gold labels of the averaged probabilities in a dev-split targets file."""
    from mtdnn.distill.targets import SoftTargets

    targets = SoftTargets.load(path).tasks[task]
    assert targets.gold is not None, f"{path} has no gold labels"
    rows = zip(targets.rows, targets.gold, strict=True)
    return statistics.mean(int(row.mean(0).argmax()) == int(gold) for row, gold in rows)


SINGLE = "configs/glue/single_task.jsonnet"
LSTM = "configs/glue/lstm_single_task.jsonnet"
NER = "configs/bio/ner.jsonnet"

if __name__ == "__main__":
    main()
