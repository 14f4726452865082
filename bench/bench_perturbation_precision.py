"""Measurement: how far a small embedding perturbation moves MiniLM's outputs in fp32 and in bf16.

Why SMART's projected update trains in fp32 even under ``precision: 'auto'`` (docs/adversarial.md):
for each ``epsilon`` it adds a random-sign perturbation of ``epsilon`` x the word-embedding RMS to
the word embeddings of some RTE pairs, runs MiniLM in evaluation mode with and without it, once in
fp32 and once under bf16 autocast, and prints the norm of the change of the last hidden states
over the real tokens, and the cosine between the bf16 and the fp32 change. Where bf16 is not
native it is emulated (slow, but the numbers are the same).

    python bench/bench_perturbation_precision.py [--pairs 16]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from bench_training import _examples, _minilm, cpu_name

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    shared = Path(os.environ.get("MTDNN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16, help="RTE training pairs in the batch")
    parser.add_argument("--data-root", type=Path, default=shared, help="the folder holding glue/")
    args = parser.parse_args()
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(0)
    texts, _, _ = _examples(args.data_root, "rte", args.pairs)
    tokenizer = AutoTokenizer.from_pretrained(str(_minilm()))
    model = AutoModel.from_pretrained(str(_minilm())).eval()
    batch = tokenizer(
        [a for a, _ in texts],
        [b or "" for _, b in texts],
        truncation=True,
        max_length=128,
        padding=True,
        return_tensors="pt",
    )
    inputs = {key: value for key, value in batch.items() if key != "input_ids"}
    words = model.embeddings.word_embeddings(batch["input_ids"]).detach()
    real = batch["attention_mask"].bool()
    rms = words.pow(2).mean().sqrt()
    print(f"MiniLM, {args.pairs} RTE pairs, evaluation mode; {cpu_name()}")
    print("| epsilon (x RMS) | change in fp32 | change in bf16 | cosine of the two changes |")
    print("| --- | --- | --- | --- |")
    for epsilon in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1):
        delta = torch.randn_like(words).sign() * epsilon * rms
        changes = []
        for bf16 in (False, True):
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                clean = model(inputs_embeds=words, **inputs).last_hidden_state.float()
                moved = model(inputs_embeds=words + delta, **inputs).last_hidden_state.float()
            changes.append((moved - clean)[real].flatten())
        cosine = torch.nn.functional.cosine_similarity(changes[0], changes[1], dim=0)
        print(f"| {epsilon:g} | {changes[0].norm():.4g} | {changes[1].norm():.4g} | {cosine:.2f} |")


if __name__ == "__main__":
    main()
