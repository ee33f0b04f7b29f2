"""``axonic bench train-step``: one LeNet-style training step, axonic against PyTorch.

The network (built inline with axonic.nn, and with torch.nn from a copy of the same
initial weights): conv 1->32 3x3 pad 1, ReLU, max-pool 2, conv 32->64 3x3 pad 1,
ReLU, max-pool 2, flatten, linear 3136->128, ReLU, linear 128->10; cross-entropy
loss, SGD with momentum 0.9; batch 64 of 1x28x28 float32 images. A step is forward,
loss, zero_grad, backward and the optimizer step, the same code for both libraries.
Before timing, the first loss of the two must agree (same weights, same batch).

Steps per second: the median step time of interleaved rounds (core.interleaved_seconds)
on the same thread count.

Peak memory: each library runs in a fresh subprocess (so neither sees the other's
allocations or allocator caches), which imports the library, records its anonymous
resident memory (RssAnon in /proc/self/status), builds the model, optimizer and batch,
takes one warm-up step (which creates the momentum buffers, fills the allocator caches
and maps the code of lazily loaded kernels), records RSS, resets the kernel's
high-water mark (``echo 5 > /proc/self/clear_refs``) and takes one more step.
"peak MiB" = (RssAnon before that step - RssAnon after import), the data the loop
holds between steps (weights, gradients, momentum, batch, cached free blocks), plus
(VmHWM during the step - VmRSS before it), the step's transient growth. Library code
pages are left out (they are file-backed, not anonymous), which would otherwise
charge torch for its oneDNN libraries; one-time state a library creates on first
use (thread pools, JIT-compiled kernels, scratch buffers) is anonymous and does count.
It is measured the same way for both: RSS sees NumPy's and PyTorch's allocations
alike, where tracemalloc would miss PyTorch's and torch's allocator statistics would
miss NumPy's. Where /proc/self/clear_refs is unavailable (not Linux) the memory
column is empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Callable

import numpy as np

from .. import _cpu
from .core import (
    BenchError,
    Column,
    Progress,
    Table,
    interleaved_seconds,
    optional_torch,
    plural,
    report,
    require_matplotlib,
    thread_count,
)

BATCH, IMAGE, CLASSES = 64, 28, 10
# Seconds of timed steps per library (see core.interleaved_seconds).
BUDGET_SECONDS = 1.0


def lenet(nn) -> Any:
    """The network with ``nn`` = axonic.nn or torch.nn (their names match)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, CLASSES))


def batch_arrays(batch: int = BATCH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 1, IMAGE, IMAGE), dtype=np.float32),
            rng.integers(0, CLASSES, batch))


def make_step(model, optimizer, loss_fn, x, y) -> Callable[[], float]:
    """One training step; the same code drives both libraries."""

    def step() -> float:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def axonic_step(batch: int = BATCH, seed: int = 0):
    """(step, model) for axonic."""
    import axonic
    from axonic import nn, optim

    axonic.manual_seed(seed)
    model = lenet(nn)
    x, y = batch_arrays(batch)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return make_step(model, optimizer, nn.CrossEntropyLoss(), axonic.tensor(x),
                     axonic.tensor(y)), model


def torch_step(torch, batch: int = BATCH, weights: list[np.ndarray] | None = None):
    """(step, model) for torch, starting from ``weights`` (axonic's, in parameter order)."""
    model = lenet(torch.nn)
    if weights is not None:
        params = list(model.parameters())
        if [tuple(p.shape) for p in params] != [w.shape for w in weights]:
            raise RuntimeError("torch and axonic LeNet parameters differ in shape")
        with torch.no_grad():
            for p, w in zip(params, weights):
                p.copy_(torch.from_numpy(w))
    x, y = batch_arrays(batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return make_step(model, optimizer, torch.nn.CrossEntropyLoss(), torch.from_numpy(x),
                     torch.from_numpy(y)), model


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"/proc/self/status has no {field}")


def memory_probe(library: str, batch: int, threads: int) -> dict[str, float]:
    """Runs in the subprocess: the peak RSS of one step, in MiB (see the docstring)."""
    if library == "axonic":
        import axonic

        axonic.set_num_threads(threads)
        base = _status_kib("RssAnon")
        step, _ = axonic_step(batch)
    else:
        import torch

        torch.set_num_threads(threads)
        base = _status_kib("RssAnon")
        step, _ = torch_step(torch, batch)
    step()
    held = _status_kib("RssAnon") - base
    before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    step()
    growth = _status_kib("VmHWM") - before
    return {"peak_mib": (held + growth) / 1024, "held_mib": held / 1024,
            "step_growth_mib": growth / 1024}


def peak_memory(library: str, batch: int, threads: int) -> dict[str, float] | None:
    """memory_probe in a fresh interpreter; None where /proc/self/clear_refs is missing."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        return None
    code = ("import json, sys; from axonic.bench.train_step import memory_probe; "
            f"print(json.dumps(memory_probe({library!r}, {batch}, {threads})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe for {library} failed: {result.stderr.strip()}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_step_table(batch: int = BATCH, repeats: int = 20, threads: int | None = None,
                     memory: bool = True, progress: Progress | None = None) -> Table:
    """Measures steps/s (and peak memory when ``memory``) and returns the table."""
    torch = optional_torch()
    progress = progress or Progress()
    try:
        with thread_count(threads, torch=torch) as n_threads:
            progress.show("building the models...")
            step, model = axonic_step(batch)
            fns = {"axonic": step}
            if torch is not None:
                weights = [p.numpy().copy() for p in model.parameters()]
                fns["torch"], _ = torch_step(torch, batch, weights)
                first = {name: fn() for name, fn in fns.items()}
                if not np.isclose(first["axonic"], first["torch"], rtol=1e-4, atol=1e-5):
                    raise RuntimeError(f"LeNet first loss differs: axonic {first['axonic']:.6f}"
                                       f", torch {first['torch']:.6f}")
            timing = interleaved_seconds(
                fns, repeats, budget_seconds=BUDGET_SECONDS,
                on_start=lambda name: progress.show(f"measuring a step ({name})..."))
            rows = []
            for name, seconds in timing.seconds.items():
                row: dict[str, object] = {"library": name, "steps_per_s": 1.0 / seconds,
                                          "ms_per_step": 1e3 * seconds,
                                          "repeats": timing.repeats}
                if torch is not None:
                    row["vs_torch"] = timing.seconds["torch"] / seconds
                if memory:
                    progress.show(f"measuring peak memory ({name})...")
                    row |= peak_memory(name, batch, n_threads) or {}
                rows.append(row)
    finally:
        progress.clear()
    title = (f"LeNet train step (conv32-pool-conv64-pool-fc128-fc10, SGD momentum, "
             f"cross-entropy), batch {batch}, {plural(n_threads, 'thread')}, SIMD "
             f"{_cpu.simd_level()}" + (f", torch {torch.__version__}" if torch else "")
             + "; peak MiB = anonymous RSS held after import + RSS growth during a step, "
             "fresh process each")
    columns = [Column("library", "library"),
               Column("steps_per_s", "steps/s", "{:.1f}", plot=True)]
    if torch is not None:
        columns.append(Column("vs_torch", "vs torch", "{:.2f}x"))
    columns += [Column("ms_per_step", "ms/step", "{:.2f}"),
                Column("peak_mib", "peak MiB", "{:.1f}")]
    table = Table("train-step", title, columns, unit="steps/s",
                  meta={"threads": n_threads, "batch": batch, "simd_level": _cpu.simd_level(),
                        "torch": torch.__version__ if torch else None})
    for row in rows:
        table.add(row)
    return table


def run_train_step_bench(batch: int = BATCH, repeats: int = 20, threads: int | None = None,
                         memory: bool = True, json_path: str | None = None,
                         plot_path: str | None = None) -> int:
    """``axonic bench train-step``: measures, prints the table, writes JSON/PNG."""
    if plot_path:
        require_matplotlib()
    report(train_step_table(batch, repeats, threads, memory), json_path, plot_path)
    return 0
