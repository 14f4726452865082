"""Benchmark: the bare loop's training step eager and under ``torch.compile`` (dynamic shapes).

MiniLM on the first ``--examples`` RTE pairs in length-sorted batches of 32, fused AdamW. The
compiled run pads lengths to multiples of 16 to bound recompilation. It prints the first steps'
seconds (compilation) and the seconds of the remaining steps. Run each mode alone:

    python bench/bench_compile.py eager [--examples 640]
    python bench/bench_compile.py compile [--examples 640]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import torch
from bench_training import BATCH, MAX_LENGTH, _examples, _minilm

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["eager", "compile"])
    parser.add_argument("--examples", type=int, default=640)
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(13)
    texts, labels, classes = _examples(args.data_root, "rte", args.examples)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    encoder = AutoModel.from_pretrained(str(_minilm()))
    head = torch.nn.Linear(encoder.config.hidden_size, classes)
    encoded = tokenizer(
        [a for a, _ in texts], [b or "" for _, b in texts], truncation=True, max_length=MAX_LENGTH
    )
    rows = encoded["input_ids"]
    ordered = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    batches = [ordered[i : i + BATCH] for i in range(0, len(ordered), BATCH)]
    batches = [batches[i] for i in torch.randperm(len(batches)).tolist()]
    parameters = [*encoder.parameters(), *head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=5e-5, fused=True)
    target = torch.tensor(labels)

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> Any:
        states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return head(torch.nn.functional.dropout(states[:, 0], 0.1, training=True))

    step = torch.compile(forward, dynamic=True) if args.mode == "compile" else forward
    encoder.train()
    seconds = []
    for batch in batches:
        width = max(len(rows[i]) for i in batch)
        if args.mode == "compile":
            width = -(-width // 16) * 16
        ids = torch.tensor([rows[i] + [tokenizer.pad_token_id] * (width - len(rows[i])) for i in batch])
        mask = (ids != tokenizer.pad_token_id).long()
        started = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(step(ids, mask).float(), target[batch])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - started)
    report = {
        "mode": args.mode,
        "first_steps": [round(s, 1) for s in seconds[:3]],
        "later_steps": len(seconds) - 3,
        "later_seconds": round(sum(seconds[3:]), 1),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
