"""``axonic bench``: kernel throughput against the peers, printed as a table.

Each benchmark checks the result against NumPy before timing, warms up, and
reports the median of several runs, so one noisy run does not decide a figure.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from typing import Callable

import numpy as np

from . import _cpu

# Square sizes, then the MLP shapes from the GEMM issue: batch-1 inference,
# a digits/MNIST hidden layer, a classifier head, and a weight-gradient product.
DEFAULT_GEMM_SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024),
                       (2048, 2048, 2048), (1, 784, 256), (128, 784, 256), (128, 256, 10),
                       (784, 128, 256)]


def settle() -> None:
    """Lets the previous library's worker threads stop spinning (OpenBLAS and OpenMP
    busy-wait for a while after each call) so they do not steal the next one's cores."""
    time.sleep(0.3)


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call."""
    settle()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def gemm_case(m: int, k: int, n: int, repeats: int, seed: int = 0) -> dict[str, object]:
    """GFLOP/s of axonic's GEMM and numpy.matmul on one float32 (m x k) @ (k x n)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    _cpu.gemm(a, b, out)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    error = float(np.max(np.abs(out - expected)) / (np.max(np.abs(expected)) + 1e-30))
    if error > 1e-4:
        raise RuntimeError(f"axonic GEMM is wrong on {m}x{k}x{n}: relative error {error:.2e}")
    flops = 2.0 * m * n * k
    axonic_s = median_seconds(lambda: _cpu.gemm(a, b, out), repeats)
    numpy_s = median_seconds(lambda: np.matmul(a, b, out=out), repeats)
    return {"m": m, "k": k, "n": n, "axonic_gflops": flops / axonic_s / 1e9,
            "numpy_gflops": flops / numpy_s / 1e9, "ratio": numpy_s / axonic_s,
            "max_rel_error": error}


def run_gemm_bench(sizes=None, repeats: int = 5, json_path: str | None = None,
                   threads: int | None = None) -> int:
    if threads is not None:
        _cpu.set_num_threads(threads)
    shapes = sizes or DEFAULT_GEMM_SHAPES
    print(f"float32 GEMM, {_cpu.get_num_threads()} threads, kernel {_cpu.gemm_kernel_name()}, "
          f"numpy {np.__version__}; median of {repeats} runs")
    results, rows = [], []
    for m, k, n in shapes:
        r = gemm_case(m, k, n, repeats)
        results.append(r)
        rows.append([f"{m}x{k}x{n}", f"{r['axonic_gflops']:.1f}", f"{r['numpy_gflops']:.1f}",
                     f"{r['ratio']:.2f}x"])
        print(f"  measured {m}x{k}x{n}".ljust(40), end="\r", flush=True)
    print(" " * 40, end="\r")
    print(format_table(["shape MxKxN", "axonic GFLOP/s", "numpy GFLOP/s", "axonic/numpy"], rows))
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"threads": _cpu.get_num_threads(), "kernel": _cpu.gemm_kernel_name(),
                       "results": results}, f, indent=2)
        print(f"wrote {json_path}")
    return 0
