"""Benchmark: prediction throughput of mtdnn against a Hugging Face ``pipeline`` on a GLUE dev set.

The job: label every example of a GLUE dev file (SST-2 by default: 872 sentences) with
all-MiniLM-L6-v2 and a two-class classification head, from raw text to one prediction (label
and probabilities) per example, tokenization included, model loading excluded. The weights do
not matter for speed, so neither model is trained. Each system runs in its own process, one after
another:

- ``mtdnn``: what ``mtdnn predict`` does after loading the run (``mtdnn.api.predict.predict_examples``:
  batches sorted by length, 64 per batch);
- ``pipeline``: ``transformers.pipeline("text-classification")`` over the same texts, once with
  its default batch size (1) and once with ``batch_size=64``.

    python bench/bench_predict.py [--task sst2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_training import FOLDERS, MAX_LENGTH, _minilm, cpu_name, mtdnn_config

ROOT = Path(__file__).resolve().parents[1]
SYSTEMS = ("mtdnn", "pipeline", "pipeline64")


def _dev(data_root: Path, task: str) -> list[Any]:
    from mtdnn.readers import GlueReader

    return list(GlueReader(task).read(data_root / "glue" / FOLDERS[task] / "dev.tsv"))


def run_mtdnn(data_root: Path, task: str, repeats: int) -> list[float]:
    """Seconds of each repeat of mtdnn's prediction path over the dev set."""
    from mtdnn.api.predict import predict_examples
    from mtdnn.experiment import build_experiment
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.types import Example

    config = mtdnn_config(task, eval_batch_size=64)
    experiment = build_experiment(config, build_registry(get_plugin_manager(autoload=False)))
    model = experiment.model().eval()
    raw = [Example(id=e.id, text_a=e.text_a, text_b=e.text_b) for e in _dev(data_root, task)]
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        records = predict_examples(experiment, model, raw, task=task, device="cpu")
        seconds.append(time.perf_counter() - started)
        assert len(records) == len(raw)
    return seconds


def run_pipeline(data_root: Path, task: str, repeats: int, batch_size: int | None) -> list[float]:
    """Seconds of each repeat of a ``text-classification`` pipeline over the dev set."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    model = AutoModelForSequenceClassification.from_pretrained(str(_minilm()), num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    inputs: list[Any] = [
        e.text_a if e.text_b is None else {"text": e.text_a, "text_pair": e.text_b}
        for e in _dev(data_root, task)
    ]
    options: dict[str, Any] = {"top_k": None, "truncation": True, "max_length": MAX_LENGTH}
    if batch_size is not None:
        options["batch_size"] = batch_size
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        outputs = classify(inputs, **options)
        seconds.append(time.perf_counter() - started)
        assert len(outputs) == len(inputs)
    return seconds


def child(args: argparse.Namespace) -> None:
    import torch

    if args.child == "mtdnn":
        seconds = run_mtdnn(args.data_root, args.task, args.repeats)
    else:
        batch = 64 if args.child == "pipeline64" else None
        seconds = run_pipeline(args.data_root, args.task, args.repeats, batch)
    report = {"system": args.child, "seconds": seconds, "threads": torch.get_num_threads()}
    print("REPORT " + json.dumps(report), flush=True)


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(FOLDERS), default="sst2")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the dev set (best kept)")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    examples = sum(1 for line in (args.data_root / "glue" / FOLDERS[args.task] / "dev.tsv").open()) - 1
    reports = []
    for system in SYSTEMS:
        command = [sys.executable, __file__, "--child", system, "--task", args.task]
        command += ["--repeats", str(args.repeats), "--data-root", str(args.data_root)]
        print(f"running {system} ...", file=sys.stderr, flush=True)
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in finished.stdout.splitlines() if line.startswith("REPORT ")]
        if finished.returncode != 0 or not lines:
            raise SystemExit(f"{system} failed:\n{finished.stderr[-3000:]}")
        reports.append(json.loads(lines[-1].removeprefix("REPORT ")))
    best = {report["system"]: min(report["seconds"]) for report in reports}
    print(
        f"{args.task.upper()} dev, {examples} examples, MiniLM, max length {MAX_LENGTH}, best of "
        f"{args.repeats}; {cpu_name()}; {reports[0]['threads']} threads"
    )
    print("| system | examples/s | mtdnn vs it |")
    print("| --- | --- | --- |")
    labels = {
        "mtdnn": "mtdnn",
        "pipeline": "pipeline, default batch size (1)",
        "pipeline64": "pipeline, batch 64",
    }
    for system in SYSTEMS:
        print(f"| {labels[system]} | {examples / best[system]:.1f} | {best[system] / best['mtdnn']:.2f}x |")


if __name__ == "__main__":
    main()
