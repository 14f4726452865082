"""Benchmark: deploying a run: PyTorch fp32 and bf16 against onnxruntime fp32 and int8, and the server.

One process measures the four ways to predict side by side on a task's full dev set, from raw
text to a prediction (tokenization included, loading excluded):

- one example at a time (latency: median and 90th percentile of ``--singles`` calls);
- batches of 32 (throughput over the whole dev set, best of ``--rounds`` rounds, the four
  systems interleaved in each round so that machine drift hits all alike);
- the dev metric of each (int8 and bf16 change it; fp32 must not).

Then ``mtdnn serve`` runs over the int8 export in its own process, and ``--clients`` threads send
``--requests`` requests each (one dev sentence per request): throughput, p50/p99 latency and
failures. The clients share the machine with the server, as a local load test does.

    python bench/bench_deploy.py --run runs/quickstart --task sst2 [--singles 50] [--rounds 2]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_training import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained run directory")
    parser.add_argument("--task", required=True)
    parser.add_argument("--singles", type=int, default=50, help="one-example calls per system")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    args = parser.parse_args()

    import torch

    from mtdnn.archive import load_run
    from mtdnn.data import read_examples
    from mtdnn.export.onnx import GRAPH, INT8_GRAPH, export_onnx
    from mtdnn.export.runtime import ExportedModel
    from mtdnn.hooks import build_registry, get_plugin_manager
    from mtdnn.training.evaluation import TaskPredictions, predict_task, score_predictions

    registry = build_registry(get_plugin_manager())
    experiment, model = load_run(args.run, registry)
    task = experiment.tasks[args.task]
    task.settings.eval_batch_size = 32
    examples = list(read_examples(task.settings.reader, task.path("dev")))
    workdir = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    started = time.perf_counter()
    report = export_onnx(
        args.run, workdir / "export", registry, tasks=[args.task], quantize="int8", evaluate=False
    )
    print(f"exported in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    runtimes = {
        "onnxruntime fp32": ExportedModel(workdir / "export", graph=GRAPH),
        "onnxruntime int8": ExportedModel(workdir / "export", graph=INT8_GRAPH),
    }
    cpu = torch.device("cpu")

    def pytorch(precision: str) -> Any:
        def run(batch: list[Any]) -> list[Any]:
            data = task.featurize(batch, experiment.encoder, source="bench")
            return predict_task(model, task, data, device=cpu, precision=precision).predictions  # type: ignore[arg-type]

        return run

    systems = {
        "PyTorch fp32": pytorch("fp32"),
        "PyTorch bf16 (autocast)": pytorch("bf16"),
        **{
            name: (lambda batch, r=runtime: r.predictions(args.task, batch, batch_size=32))
            for name, runtime in runtimes.items()
        },
    }
    data = task.featurize(examples, experiment.encoder, source="dev")
    throughput: dict[str, float] = {}
    metric: dict[str, dict[str, float]] = {}
    for _ in range(args.rounds):
        for name, system in systems.items():
            started = time.perf_counter()
            predictions = system(examples)
            rate = len(examples) / (time.perf_counter() - started)
            throughput[name] = max(rate, throughput.get(name, 0.0))
            result = TaskPredictions([example.id for example in examples], predictions)
            metric[name] = score_predictions(task, data, result)
    latency: dict[str, list[float]] = {name: [] for name in systems}
    for index in range(args.singles):
        for name, system in systems.items():
            started = time.perf_counter()
            system([examples[index % len(examples)]])
            latency[name].append(time.perf_counter() - started)

    print(f"# Deployment: {args.task} dev ({len(examples)} examples), run {args.run}")
    print(f"CPU: {cpu_name()}; torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| system | dev metric | latency, 1 example (p50 / p90 ms) | batch 32 (ex/s) | vs PyTorch fp32 |")
    print("| --- | --- | --- | --- | --- |")
    base = throughput["PyTorch fp32"]
    for name in systems:
        times = sorted(latency[name])
        p50, p90 = statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000
        main_metric = ", ".join(f"{key} {value:.4f}" for key, value in list(metric[name].items())[:2])
        print(
            f"| {name} | {main_metric} | {p50:.1f} / {p90:.1f} | {throughput[name]:.1f} | "
            f"{throughput[name] / base:.2f}x |"
        )
    sizes = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in report.sizes.items())
    print(f"\nGraph files: {sizes}\n")
    cold_start(args, workdir, [example.text_a for example in examples[:2]])
    serve_load(workdir / "export", args, [example.text_a for example in examples])


def cold_start(args: argparse.Namespace, workdir: Path, texts: list[str]) -> None:
    """Seconds of a whole ``mtdnn predict`` process on two lines: from the export and from the run."""
    inputs = workdir / "two.tsv"
    inputs.write_text("".join(text + "\n" for text in texts))
    seconds: dict[str, list[float]] = {"export (int8)": [], "run directory": []}
    for _ in range(args.rounds):
        for name, model in (("export (int8)", workdir / "export"), ("run directory", args.run)):
            started = time.perf_counter()
            command = [
                sys.executable,
                str(ROOT / "cli.py"),
                "predict",
                str(model),
                str(inputs),
                "--task",
                args.task,
            ]
            subprocess.run(command, check=True, capture_output=True)
            seconds[name].append(time.perf_counter() - started)
    cells = "; ".join(f"{name} {statistics.median(times):.1f} s" for name, times in seconds.items())
    print(f"Cold `mtdnn predict` of 2 lines (median of {args.rounds} processes): {cells}\n")


def serve_load(export: Path, args: argparse.Namespace, texts: list[str]) -> None:
    """Start ``mtdnn serve`` on the export and send a bounded load; print throughput and latency."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", str(export), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        latencies: list[float] = []
        failures = 0

        def client(number: int) -> None:
            nonlocal failures
            with httpx.Client(timeout=60) as session:
                for request in range(args.requests):
                    text = texts[(number * args.requests + request) % len(texts)]
                    started = time.perf_counter()
                    answer = session.post(f"{url}/predict/{args.task}", json={"text": text})
                    latencies.append(time.perf_counter() - started)
                    failures += answer.status_code != 200

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(client, range(args.clients)))
        elapsed = time.perf_counter() - started
        health = httpx.get(url + "/health").json()
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    total = args.clients * args.requests
    p50, p99 = statistics.median(latencies) * 1000, latencies[int(0.99 * (len(latencies) - 1))] * 1000
    print(f"## mtdnn serve (int8 export): {args.clients} clients x {args.requests} requests of one sentence")
    print(
        f"{total / elapsed:.1f} requests/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"{failures} failed; {health['batches']} model calls for {health['requests']} requests"
    )


if __name__ == "__main__":
    main()
