"""Benchmark: a training step with torch's dropout against mtdnn's ``fast_dropout``, fp32 and bf16.

Two parts, each in this one process, one after the other:

- the dropout of one attention-probability tensor (batch 32, 12 heads, 128 x 128), eight tensors
  in rotation so the caches do not hold them: torch's ``functional.dropout`` against
  ``mtdnn.dropout.fast_dropout``;
- the bare loop's training step of ``bench_training.py`` (MiniLM, RTE pairs in length-sorted
  batches of 32, fused AdamW) with the model as loaded and with ``use_fast_dropout`` applied, in
  fp32 and under bf16 autocast (emulated, so slow, where the CPU has no native bf16).

    python bench/bench_dropout.py [--batches 25] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from bench_training import _examples, _minilm, cpu_name

from mtdnn.dropout import fast_dropout, use_fast_dropout

ROOT = Path(__file__).resolve().parents[1]


def _milliseconds(function: Callable[[int], object], repeats: int = 16) -> float:
    """Mean milliseconds of ``function(i)`` over ``repeats`` calls, ``i`` rotating over 8 tensors."""
    function(0)
    started = time.perf_counter()
    for number in range(repeats):
        function(number % 8)
    return (time.perf_counter() - started) / repeats * 1e3


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _step_seconds(
    model: torch.nn.Module, batches: list[Batch], *, bf16: bool, fast: bool, profile: bool = False
) -> float:
    """Mean seconds of a training step over ``batches`` (after one untimed step).

    ``profile``: also print torch's profile of the timed steps (the ops with the most own time).
    """
    head = torch.nn.Linear(model.config.hidden_size, 2)
    parameters = [*model.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=5e-5, fused=True)
    model.train()

    def step(ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            states = model(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = states[:, 0]
            logits = head(fast_dropout(pooled, 0.1) if fast else torch.nn.functional.dropout(pooled, 0.1))
        torch.nn.functional.cross_entropy(logits.float(), labels).backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step(*batches[0])  # warm-up
    profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
    started = time.perf_counter()
    with profiler if profile else contextlib.nullcontext():
        for batch in batches[1:]:
            step(*batch)
    seconds = (time.perf_counter() - started) / (len(batches) - 1)
    if profile:
        print(f"profile: {'bf16' if bf16 else 'fp32'}, {'fast_dropout' if fast else 'torch dropout'}")
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    return seconds


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=25, help="RTE batches of 32 per timing")
    parser.add_argument(
        "--profile", action="store_true", help="print torch's profile of each step timing (slower)"
    )
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    from transformers import AutoModel, AutoTokenizer

    print(f"{cpu_name()}; {torch.get_num_threads()} threads")
    shape = (32, 12, 128, 128)
    tensors = [torch.randn(shape) for _ in range(8)]
    torch_ms = _milliseconds(lambda i: torch.nn.functional.dropout(tensors[i], 0.1, True))
    fast_ms = _milliseconds(lambda i: fast_dropout(tensors[i], 0.1))
    size = " x ".join(map(str, shape))
    print(f"dropout of a {size} tensor: torch {torch_ms:.1f} ms, mtdnn {fast_ms:.1f} ms")

    torch.manual_seed(13)
    texts, labels, _ = _examples(args.data_root, "rte", 32 * args.batches)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    rows = tokenizer([a for a, _ in texts], [b or "" for _, b in texts], truncation=True, max_length=128)[
        "input_ids"
    ]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    batches = []
    for start in range(0, len(order), 32):
        chosen = order[start : start + 32]
        width = max(len(rows[i]) for i in chosen)
        ids = torch.tensor([rows[i] + [tokenizer.pad_token_id] * (width - len(rows[i])) for i in chosen])
        mask = (ids != tokenizer.pad_token_id).long()
        batches.append((ids, mask, torch.tensor([labels[i] for i in chosen])))
    batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
    loaded = AutoModel.from_pretrained(str(_minilm()))
    print("| precision | torch's dropout, s/step | fast_dropout, s/step | speed-up |")
    print("| --- | --- | --- | --- |")
    for bf16 in (False, True):
        seconds = []
        for fast in (False, True):
            model = copy.deepcopy(loaded)
            if fast:
                use_fast_dropout(model)
            torch.manual_seed(13)
            seconds.append(_step_seconds(model, batches, bf16=bf16, fast=fast, profile=args.profile))
        name = "bf16" if bf16 else "fp32"
        print(f"| {name} | {seconds[0]:.3f} | {seconds[1]:.3f} | {seconds[0] / seconds[1]:.2f}x |")


if __name__ == "__main__":
    main()
