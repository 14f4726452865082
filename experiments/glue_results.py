"""Reproduce the GLUE tables of docs/results.md: single-task vs multi-task vs multi-task + fine-tuning.

For every seed it trains each task alone (configs/glue/single_task.jsonnet), all tasks together
(configs/glue/multitask.jsonnet) and then each task fine-tuned from the multi-task run
(single_task.jsonnet with init_from). It reports the best dev score of every run as mean and
standard deviation over the seeds, as a markdown table. Finished runs are reused, so an
interrupted sweep continues where it stopped.

    python experiments/glue_results.py --runs runs/glue --seeds 1 2 3 --limits sst2=10000 > table.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from mtdnn.rundir import RunDirectory
from mtdnn.training.checkpoint import latest_checkpoint

ROOT = Path(__file__).resolve().parents[1]
MAIN = {
    "cola": "mcc",
    "sst2": "accuracy",
    "mrpc": "accuracy",
    "stsb": "pearson",
    "rte": "accuracy",
    "wnli": "accuracy",
}
EXTRA = {"mrpc": "f1", "stsb": "spearman"}


def run(config: str, run_dir: Path, tlas: list[str]) -> dict[str, dict[str, float]]:
    """Train unless ``run_dir`` already finished; return the dev metrics of its best evaluation."""
    run_files = RunDirectory(run_dir)
    if not run_files.has_model() or not _finished(run_files):
        if run_dir.exists() and not run_files.config.exists():
            raise SystemExit(f"{run_dir} exists but holds no run; remove it")
        started = run_files.config.is_file()
        if started and latest_checkpoint(run_files.checkpoints) is None and not run_files.read_records():
            shutil.rmtree(run_dir)  # stopped before its first checkpoint: nothing to resume, start again
            started = False
        resume = ["--resume"] if started else []
        command = [
            sys.executable,
            str(ROOT / "cli.py"),
            "train",
            str(ROOT / config),
            "-s",
            str(run_dir),
            *tlas,
            *resume,
        ]
        print("+", " ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)  # stdout carries only the table
    best = [record for record in run_files.read_records() if record["best"]][-1]
    return dict(best["dev"])


def _finished(run: RunDirectory) -> bool:
    records = run.read_records()
    return bool(records) and records[-1]["epoch"] >= run.read_config()["trainer"]["epochs"]


def _has_finished_model(run_dir: Path) -> bool:
    run_files = RunDirectory(run_dir)
    return run_files.config.is_file() and _finished(run_files) and run_files.has_model()


def add_run_arguments(parser: argparse.ArgumentParser, *, holding: str) -> None:
    """``--runs`` (the folder of all run directories) and ``--data-root`` (the shared data)."""
    parser.add_argument("--runs", type=Path, required=True, help="folder for all run directories")
    parser.add_argument(
        "--data-root",
        default=os.environ.get("MTDNN_SHARED_DATA", str(ROOT.parent / "shared" / "data")),
        help=f"the folder holding {holding}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser, holding="glue/")
    parser.add_argument("--tasks", nargs="+", default=list(MAIN))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=3, help="epochs of single-task and multi-task runs")
    parser.add_argument(
        "--finetune-epochs", type=int, help="epochs of the fine-tuning stage (default: --epochs)"
    )
    parser.add_argument("--limits", nargs="*", default=[], help="TASK=N caps a task's training examples")
    args = parser.parse_args()
    limits = dict(item.split("=") for item in args.limits)
    common = ["-A", f"data_root={args.data_root}"]
    finetune_epochs = args.epochs if args.finetune_epochs is None else args.finetune_epochs
    scores: dict[tuple[str, str], list[dict[str, float]]] = {}
    for seed in args.seeds:
        seeded = [*common, "--tla-code", f"seed={seed}"]
        trained = [*seeded, "--tla-code", f"epochs={args.epochs}"]
        limit_code = "{" + ", ".join(f"{t}: {n}" for t, n in limits.items()) + "}"
        multi_dir = args.runs / f"multitask-seed{seed}"
        multi = run(
            "configs/glue/multitask.jsonnet",
            multi_dir,
            [*trained, "-A", f"tasks={','.join(args.tasks)}", "--tla-code", f"limits={limit_code}"],
        )
        for task in args.tasks:
            data_tlas = ["-A", f"task={task}"] + (
                ["--tla-code", f"train_limit={limits[task]}"] if task in limits else []
            )
            single_tlas = [*trained, *data_tlas]
            scores.setdefault(("single-task", task), []).append(
                run("configs/glue/single_task.jsonnet", args.runs / f"single-{task}-seed{seed}", single_tlas)[
                    task
                ]
            )
            scores.setdefault(("multi-task", task), []).append(multi[task])
            tuned = [
                *seeded,
                *data_tlas,
                "--tla-code",
                f"epochs={finetune_epochs}",
                "-A",
                f"init_from={multi_dir}",
            ]
            scores.setdefault(("multi-task + fine-tune", task), []).append(
                run("configs/glue/single_task.jsonnet", args.runs / f"finetune-{task}-seed{seed}", tuned)[
                    task
                ]
            )
    print(table(scores, args.tasks, len(args.seeds)))


def table(scores: dict[tuple[str, str], list[dict[str, float]]], tasks: list[str], seeds: int) -> str:
    """A markdown table: one row per setting, one column per task, mean ± std over the seeds."""
    header = [f"{task} ({MAIN[task]}" + (f" / {EXTRA[task]})" if task in EXTRA else ")") for task in tasks]
    lines = [f"| setting ({seeds} seeds) | " + " | ".join(header) + " |", "|---" * (len(tasks) + 1) + "|"]
    for setting in ("single-task", "multi-task", "multi-task + fine-tune"):
        cells = []
        for task in tasks:
            runs = scores[(setting, task)]
            cell = _mean_std([r[MAIN[task]] for r in runs])
            if task in EXTRA:
                cell += " / " + _mean_std([r[EXTRA[task]] for r in runs])
            cells.append(cell)
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


RECORDS = ROOT / "experiments" / "records"
"""Where sweeps keep the best dev scores of their finished runs, in git: a run directory lives on
one machine and is lost with it, and the record lets a sweep go on elsewhere."""


def _portable(tlas: list[str]) -> list[str]:
    """The TLAs without the data root, which differs between machines but not the run."""
    pairs = list(zip(tlas[::2], tlas[1::2], strict=True))
    return [part for flag, value in pairs if not value.startswith("data_root=") for part in (flag, value)]


def _cpu() -> str:
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")


class Sweep:
    """Runs (or, with ``report``, only looks up) the settings and collects their scores.

    A finished run's best dev scores are also written to ``experiments/records/RUNS/NAME.json``
    (``RUNS`` the name of the runs folder), with its config and TLAs; a run with a matching
    record is not trained again, wherever its run directory is.
    """

    def __init__(self, runs: Path, report: bool) -> None:
        self.runs, self.report = runs, report
        self.scores: dict[tuple[str, str], list[dict[str, float]]] = {}

    def add(
        self, setting: str, name: str, config: str, tlas: list[str], tasks: list[str], *, model: bool = False
    ) -> None:
        """Train (unless reporting or recorded) ``name``; record its best dev scores under ``setting``.

        With ``model`` (a teacher whose soft targets are still to be computed) a recorded run whose
        directory is gone, trained on another machine, is trained again here. Its table score stays
        the recorded one; the new run's scores and CPU are added to the record under ``retrained``,
        which shows how far a run moves between machines.
        """
        best = self._recorded(name, config, tlas)
        run_dir = self.runs / name
        if best is not None and model and not self.report and not _has_finished_model(run_dir):
            again = run(config, run_dir, tlas)
            path = self._record_path(name)
            record = json.loads(path.read_text())
            record.setdefault("retrained", []).append({"cpu": _cpu(), "dev": again})
            path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
            print(f"{name}: recorded {best}, trained again here {again}", file=sys.stderr)
        if best is None:
            if self.report and not _has_finished_model(run_dir):
                return
            best = run(config, run_dir, tlas)
            self._record(name, config, tlas, best)
        for task in tasks:
            self.scores.setdefault((setting, task), []).append(best[task])

    def add_derived(
        self,
        setting: str,
        name: str,
        task: str,
        sources: list[str],
        compute: Callable[[], dict[str, float]] | None,
    ) -> None:
        """A score computed from other runs (an ensemble's), recorded like a run's under ``name``.

        ``compute`` is None while its inputs are missing; a recorded score needs no inputs.
        """
        tlas = [part for source in sources for part in ("--from", source)]
        best = self._recorded(name, "derived", tlas)
        if best is None and compute is not None:
            best = {task: compute()}
            self._record(name, "derived", tlas, best)
        if best is not None:
            self.scores.setdefault((setting, task), []).append(best[task])

    def recorded(self, name: str) -> bool:
        """Whether ``name`` has a record (its settings are checked when it is added)."""
        return self._record_path(name).is_file()

    def _record_path(self, name: str) -> Path:
        return RECORDS / self.runs.name / f"{name}.json"

    def _recorded(self, name: str, config: str, tlas: list[str]) -> dict[str, dict[str, float]] | None:
        path = self._record_path(name)
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        if record["config"] != config or record["tlas"] != _portable(tlas):
            raise SystemExit(f"{path} records {name} with other settings; remove it to train again")
        return dict(record["dev"])

    def _record(self, name: str, config: str, tlas: list[str], best: dict[str, dict[str, float]]) -> None:
        path = self._record_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"config": config, "tlas": _portable(tlas), "dev": best, "cpu": _cpu()}
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def add_sweep_arguments(parser: argparse.ArgumentParser, *, tasks: list[str], limits: list[str]) -> None:
    """``--tasks``, ``--seeds``, ``--epochs`` (2), ``--limits`` and ``--report`` of a results sweep."""
    parser.add_argument("--tasks", nargs="+", default=tasks)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limits", nargs="*", default=limits, help="TASK=N caps a task's training examples")
    parser.add_argument(
        "--report", action="store_true", help="print the table of finished runs; train nothing"
    )


def parse_limits(items: list[str]) -> tuple[dict[str, str], str]:
    """``TASK=N`` items as a dict and as the jsonnet object multitask.jsonnet's ``limits`` takes."""
    limits = dict(item.split("=") for item in items)
    return limits, "{" + ", ".join(f"{t}: {n}" for t, n in limits.items()) + "}"


def seed_tlas(data_root: str, seed: int, epochs: int) -> list[str]:
    """The TLAs every run of a seed shares: the data root, the seed, the epochs and fp32.

    Results runs are pinned to fp32 whatever ``precision: 'auto'`` would pick on the machine, so
    that a table's runs agree wherever they were trained and the drivers can share runs.
    """
    data = ["-A", f"data_root={data_root}", "--tla-code", f"seed={seed}", "--tla-code", f"epochs={epochs}"]
    return [*data, "-A", "precision=fp32"]


def ner_tlas(data_root: str, seed: int, epochs: int, corpus: str = "NCBI-disease-IOB") -> list[str]:
    """The TLAs of an NER run of configs/bio/ner.jsonnet (the adversarial and compression drivers)."""
    return ["-A", f"corpus={corpus}", *seed_tlas(data_root, seed, epochs)]


def single_task_tlas(common: list[str], task: str, limits: dict[str, str]) -> list[str]:
    """``common`` plus the task and its training cap (single_task.jsonnet)."""
    return [*common, "-A", f"task={task}"] + (
        ["--tla-code", f"train_limit={limits[task]}"] if task in limits else []
    )


def score_rows(
    scores: dict[tuple[str, str], list[dict[str, float]]],
    tasks: list[str],
    settings: list[str],
    *,
    average: bool = False,
) -> list[str]:
    """Markdown lines: a row per setting that has runs (with its number of seeds), a column per task.

    With ``average``, a last column: each seed's mean of the tasks' main metrics (as GLUE's
    average), then mean ± sd over the seeds; only for settings with every task on every seed.
    """
    header = [f"{task} ({MAIN[task]}" + (f" / {EXTRA[task]})" if task in EXTRA else ")") for task in tasks]
    header += ["average"] if average else []
    lines = ["| setting | seeds | " + " | ".join(header) + " |", "|---" * (len(header) + 2) + "|"]
    for setting in settings:
        found = [scores.get((setting, task), []) for task in tasks]
        if not any(found):
            continue
        seeds = max(len(runs) for runs in found)
        cells = []
        for runs, task in zip(found, tasks, strict=True):
            cell = _mean_std([r[MAIN[task]] for r in runs]) if runs else "-"
            if runs and task in EXTRA:
                cell += " / " + _mean_std([r[EXTRA[task]] for r in runs])
            if runs and len(runs) < seeds:  # a sweep still under way
                cell += f" ({len(runs)} seed{'s' if len(runs) > 1 else ''})"
            cells.append(cell)
        if average:
            if all(len(runs) == seeds for runs in found):
                columns = [[r[MAIN[task]] for r in runs] for runs, task in zip(found, tasks, strict=True)]
                cells.append(_mean_std([statistics.mean(seed) for seed in zip(*columns, strict=True)]))
            else:
                cells.append("-")
        lines.append(f"| {setting} | {seeds} | " + " | ".join(cells) + " |")
    return lines


def difference_rows(
    scores: dict[tuple[str, str], list[dict[str, float]]], tasks: list[str], pairs: list[tuple[str, str]]
) -> list[str]:
    """Markdown lines: for each (setting, baseline) pair, each seed's difference in the main metrics.

    The settings' runs are in seed order (a sweep adds them seed by seed); a pair is left out
    unless both have every task on the same number of seeds.
    """
    lines = ["| difference, seed by seed | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for setting, baseline in pairs:
        runs = [(scores.get((setting, t), []), scores.get((baseline, t), [])) for t in tasks]
        if not all(ours and len(ours) == len(theirs) for ours, theirs in runs):
            continue
        cells = [
            ", ".join(f"{100 * (a[MAIN[t]] - b[MAIN[t]]):+.1f}" for a, b in zip(ours, theirs, strict=True))
            for (ours, theirs), t in zip(runs, tasks, strict=True)
        ]
        lines.append(f"| {setting} minus {baseline} | " + " | ".join(cells) + " |")
    return lines


def soft_targets(
    teachers: list[Path], output: Path, *, report: bool, split: str = "train", limit: int | None = None
) -> bool:
    """Write the teachers' soft targets of ``split`` to ``output`` (``mtdnn distill targets``) unless done.

    ``limit``: the first rows to score, beyond the teachers' own training limit (a transfer set).
    Returns whether ``output`` exists; with ``report`` nothing is computed.
    """
    if not report and not output.is_file():
        command = [sys.executable, str(ROOT / "cli.py"), "distill", "targets", *map(str, teachers)]
        command += ["--split", split, "-o", str(output)]
        command += [] if limit is None else ["--limit", str(limit)]
        print("+", " ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
    return output.is_file()


def _mean_std(values: list[float]) -> str:
    """Mean ± sample standard deviation in percent; one value alone has no spread to show."""
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


if __name__ == "__main__":
    main()
