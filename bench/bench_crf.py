"""Benchmark: the CRF head (plugins/crf) against the tagging head on NCBI-disease, side by side.

One process, the same encoder weights and the same batches (the first ``--batches`` batches of
32 sentences of NCBI-disease's training file, MiniLM, max length 128): each round trains every
head on the batches in turn (forward, loss, backward, AdamW step), then predicts the first
``--dev`` dev sentences (Viterbi for the CRF, the best label per word for tagging), so machine
drift hits both alike. The first training step of each head is a warm-up and not timed. It
prints seconds per training step and per 100 predicted sentences, and the ratios to tagging.
A training epoch over the 5,424 training sentences is about 170 such steps.

    python bench/bench_crf.py [--batches 8] [--rounds 2] [--dev 256]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench_training import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root", default=os.environ.get("MTDNN_SHARED_DATA", str(ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--batches", type=int, default=8, help="training batches per head and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--dev", type=int, default=256, help="dev sentences predicted per head and round")
    args = parser.parse_args()

    import torch

    from mtdnn.api.train import load_config
    from mtdnn.data import make_batch
    from mtdnn.experiment import build_experiment
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.training.evaluation import predict_task

    pm = get_plugin_manager()
    registry = build_registry(pm)
    example = ROOT / "plugins" / "crf" / "src" / "mtdnn_crf" / "examples" / "ncbi.jsonnet"
    limit = 32 * args.batches
    heads = {}
    for head in ("tagging", "crf"):
        strings = {"data_root": args.data_root, "head": head}
        config = load_config(example, pm, tla_str=strings, tla_code={"train_limit": str(limit)})
        experiment = build_experiment(config, registry)
        heads[head] = experiment
    tagging = heads["tagging"].model()
    models = {"tagging": tagging.train()}
    crf = heads["crf"].model()
    crf.encoder.load_state_dict(tagging.encoder.state_dict())  # the same encoder weights
    models["crf"] = crf.train()
    tasks = {name: experiment.tasks["ncbi"] for name, experiment in heads.items()}
    train = {name: tasks[name].load("train", models[name].encoder) for name in heads}
    dev = {name: tasks[name].load("dev", models[name].encoder, limit=args.dev) for name in heads}
    optimizers = {name: torch.optim.AdamW(model.parameters(), lr=5e-5) for name, model in models.items()}
    steps: dict[str, list[float]] = {name: [] for name in heads}
    predicting: dict[str, list[float]] = {name: [] for name in heads}
    for round_ in range(args.rounds):
        for name, model in models.items():
            data, task, optimizer = train[name], tasks[name], optimizers[name]
            model.train()
            for number in range(args.batches):
                indices = range(32 * number, min(32 * (number + 1), len(data)))
                started = time.perf_counter()
                batch = model.prepare(make_batch(data, indices, model.encoder))
                loss = task.settings.loss(model(batch), batch)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if round_ or number:
                    steps[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            with torch.no_grad():
                predict_task(model, task, dev[name], device=torch.device("cpu"))
            predicting[name].append((time.perf_counter() - started) / len(dev[name].examples) * 100)
    print(f"{cpu_name()}, {torch.get_num_threads()} threads; NCBI-disease, MiniLM, batch 32, max length 128")
    print(f"{args.batches} training batches and {args.dev} dev sentences per head, {args.rounds} rounds\n")
    print("| head | s/training step | vs tagging | s/100 sentences predicted | vs tagging |")
    print("| --- | --- | --- | --- | --- |")
    base_step, base_predict = statistics.mean(steps["tagging"]), statistics.mean(predicting["tagging"])
    for name in heads:
        step, predict = statistics.mean(steps[name]), statistics.mean(predicting[name])
        ratios = f"{step / base_step:.2f}x | {predict:.3f} | {predict / base_predict:.2f}x"
        print(f"| {name} | {step:.3f} | {ratios} |")


if __name__ == "__main__":
    main()
