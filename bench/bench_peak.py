"""Benchmark: the machine's matrix-multiply peak (GFLOP/s) in fp32 and bf16, with torch's threads.

``bench_training.py`` divides the model FLOPs of a training run by this peak, measured in the same
run, to report the model-FLOP utilisation (MFU). On its own it shows whether bf16 is worth using
here: where the CPU has no native bf16 (no AVX-512 BF16, no AMX) torch emulates it, and a bf16
product is then far slower than an fp32 one.

    python bench/bench_peak.py [--size 2048]
"""

from __future__ import annotations

import argparse
import time

import torch


def matmul_gflops(
    dtype: torch.dtype, *, size: int = 2048, min_seconds: float = 1.0, device: str = "cpu"
) -> float:
    """GFLOP/s of ``size`` x ``size`` products in ``dtype``: the best of repeated timings.

    One product is ``2 * size**3`` FLOPs. It repeats until ``min_seconds`` have passed (at least
    three times) after one untimed warm-up, and keeps the fastest, the closest to the peak.
    """
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b  # warm-up: oneDNN picks its kernel, caches fill
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or spent < min_seconds:
        if device != "cpu":
            torch.cuda.synchronize()
        started = time.perf_counter()
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return 2 * size**3 / best / 1e9


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX-512 BF16 or AMX tiles)."""
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    fp32 = matmul_gflops(torch.float32, size=args.size)
    # Emulated bf16 can be hundreds of times slower: a smaller product keeps this to seconds.
    bf16_size = args.size if native_bf16() else min(args.size, 512)
    bf16 = matmul_gflops(torch.bfloat16, size=bf16_size, min_seconds=0.5)
    print(
        f"CPU capability {torch.backends.cpu.get_cpu_capability()}, native bf16: "
        f"{'yes' if native_bf16() else 'no'}, {torch.get_num_threads()} threads"
    )
    print("| dtype | size | GFLOP/s | vs fp32 |")
    print("| --- | --- | --- | --- |")
    print(f"| fp32 | {args.size} | {fp32:.1f} | 1.00x |")
    print(f"| bf16 | {bf16_size} | {bf16:.1f} | {bf16 / fp32:.3f}x |")


if __name__ == "__main__":
    main()
