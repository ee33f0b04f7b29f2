"""``axonic bench optim``: optimizer step time and effective memory bandwidth.

An optimizer step is memory-bound: it reads every parameter, gradient and state
element once and writes every parameter and state element once, so its honest
speed is bytes moved per second. For each optimizer, on ~10M float32 parameters
spread over ~20 tensors (the weights and biases of a 10-layer network), the table
gives axonic's step time and effective bandwidth (bytes read + written / time), the
bandwidth of a multi-threaded stream copy over the same amount of memory
(``_cpu.parallel_copy``, measured in the same run; the caches hold part of a working
set this size on some machines, so the copy is sized to match), axonic's share of
it, and PyTorch's fastest CPU variant of the same optimizer (for-loop,
foreach=True, fused=True where offered) when PyTorch is installed.

Before timing, each optimizer takes three steps on a small problem with the native
kernels and with the NumPy reference kernels; a mismatch raises RuntimeError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import _cpu, backends, optim
from .. import cuda as axonic_cuda
from ..creation import from_numpy, tensor
from ..nn import Parameter
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


@dataclass(frozen=True)
class OptimizerCase:
    """One row: the optimizer's name in axonic.optim and torch.optim, its options,
    and how many state buffers it keeps per parameter element."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    state_buffers: int = 0

    @property
    def bytes_per_element(self) -> int:
        """float32 bytes moved per parameter element: p, g and the states read; p and
        the states written."""
        return 4 * ((2 + self.state_buffers) + (1 + self.state_buffers))


OPTIMIZER_CASES = [
    OptimizerCase("SGD", "SGD", {"lr": 1e-3}),
    OptimizerCase("SGD momentum", "SGD", {"lr": 1e-3, "momentum": 0.9}, 1),
    OptimizerCase("Adagrad", "Adagrad", {"lr": 1e-3}, 1),
    OptimizerCase("RMSprop", "RMSprop", {"lr": 1e-4}, 1),
    OptimizerCase("Adadelta", "Adadelta", {}, 2),
    OptimizerCase("Adam", "Adam", {"lr": 1e-4}, 2),
    OptimizerCase("AdamW", "AdamW", {"lr": 1e-4}, 2),
    OptimizerCase("Adamax", "Adamax", {"lr": 1e-4}, 2),
    OptimizerCase("NAdam", "NAdam", {"lr": 1e-4}, 2),
]
CASES_BY_LABEL = {case.label.lower().replace(" ", "-"): case for case in OPTIMIZER_CASES}
TORCH_VARIANTS = {"for-loop": {"foreach": False}, "foreach": {"foreach": True},
                  "fused": {"fused": True}}


def tensor_sizes(total: int, count: int) -> list[int]:
    """``count`` tensor sizes summing to ``total``: the weights and biases of a deep
    network, half of them matrices growing in size, half small vectors."""
    if count < 2 or total < 64 * count:
        raise BenchError(f"need at least 2 tensors and 64 elements each, got {count} tensors "
                         f"for {total} elements")
    biases = count // 2
    bias_sizes = [min(4096, max(64, total // (64 * count))) for _ in range(biases)]
    weights = count - biases
    share = np.arange(1, weights + 1, dtype=np.float64)
    weight_total = total - sum(bias_sizes)
    weight_sizes = np.floor(weight_total * share / share.sum()).astype(np.int64)
    weight_sizes[-1] += weight_total - weight_sizes.sum()
    return [int(s) for s in weight_sizes] + bias_sizes


def _synchronized(step: Callable[[], object], device: str) -> Callable[[], None]:
    """``step`` that, on CUDA, waits for the GPU, so a timing is the kernels'."""
    if device == "cpu":
        return step

    def run() -> None:
        step()
        axonic_cuda.synchronize()

    return run


def axonic_step(case: OptimizerCase, values: Sequence[np.ndarray],
                grads: Sequence[np.ndarray],
                device: str = "cpu") -> tuple[Callable[[], None], list[Parameter]]:
    params = [Parameter(tensor(v, device=device)) for v in values]
    for p, g in zip(params, grads):
        p.grad = from_numpy(g) if device == "cpu" else tensor(g, device=device)
    optimizer = getattr(optim, case.name)(params, **case.options)
    return _synchronized(optimizer.step, device), params


def check_against_reference(case: OptimizerCase, steps: int = 3) -> None:
    """A few steps on small tensors with the native and the reference kernels."""
    rng = np.random.default_rng(1)
    values = [rng.standard_normal(size).astype(np.float32) for size in (1000, 37, 40000)]
    grads = [rng.standard_normal(v.shape).astype(np.float32) for v in values]
    results = []
    for reference in (False, True):
        backends.use_reference_kernels(reference)
        try:
            step, params = axonic_step(case, values, grads)
            for _ in range(steps):
                step()
        finally:
            backends.use_reference_kernels(False)
        results.append([p.numpy() for p in params])
    for native, expected in zip(*results):
        if not np.allclose(native, expected, rtol=1e-5, atol=1e-6):
            error = np.max(np.abs(native - expected))
            raise RuntimeError(f"{case.label}: native step differs from the reference by {error}")


def torch_steps(case: OptimizerCase, torch, values, grads,
                device: str = "cpu") -> dict[str, Callable[[], None]]:
    """One step callable per torch variant this optimizer offers (fused is not everywhere)."""
    params = [torch.from_numpy(v.copy()).to(device).requires_grad_() for v in values]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g).to(device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    steps = {}
    for variant, flags in TORCH_VARIANTS.items():
        try:
            optimizer = getattr(torch.optim, case.name)(params, **case.options, **flags)
            optimizer.step()  # builds the state; fused raises here where unsupported
        except (RuntimeError, TypeError, ValueError):
            continue
        steps[f"torch {variant}"] = (lambda step: lambda: (step(), sync()))(optimizer.step)
    return steps


def copy_step(footprint_bytes: int, device: str = "cpu") -> Callable[[], None]:
    """A stream copy moving as many bytes (read + written) as the working set (on CUDA a
    device-to-device copy)."""
    backend = backends.get_backend(device)
    src = backend.xp.ones(footprint_bytes // 8, np.float32)
    dst = backend.xp.zeros_like(src)
    return _synchronized(lambda: backend.parallel_copy(src, dst), device)


def _measure(case: OptimizerCase, sizes: Sequence[int], repeats: int, torch,
             progress: Progress, device: str = "cpu") -> dict[str, object]:
    progress.show(f"{case.label}: checking against the reference kernels...")
    check_against_reference(case)
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(size, dtype=np.float32) for size in sizes]
    grads = [rng.standard_normal(size, dtype=np.float32) for size in sizes]
    elements = sum(sizes)
    moved = case.bytes_per_element * elements
    footprint = 4 * elements * (2 + case.state_buffers)
    fns = {"axonic": axonic_step(case, values, grads, device)[0]}
    if torch is not None:
        fns |= torch_steps(case, torch, values, grads, device)
    fns["copy"] = copy_step(footprint, device)
    for fn in fns.values():  # creates the optimizer state and maps every page before timing
        fn()
    timing = interleaved_seconds(fns, repeats, budget_seconds=0.5, on_start=lambda name:
                                 progress.show(f"measuring {case.label} ({name})..."))
    seconds = timing.seconds
    copy_gbs = 2 * (footprint // 8) * 4 / seconds["copy"] / 1e9
    axonic_gbs = moved / seconds["axonic"] / 1e9
    row: dict[str, object] = {
        "optimizer": case.label, "bytes_per_param": case.bytes_per_element,
        "axonic_ms": 1e3 * seconds["axonic"], "axonic_gbs": axonic_gbs, "copy_gbs": copy_gbs,
        "copy_percent": 100.0 * axonic_gbs / copy_gbs, "elements": elements,
        "repeats": timing.repeats,
    }
    torch_times = {name: s for name, s in seconds.items() if name.startswith("torch")}
    if torch_times:
        best = min(torch_times, key=torch_times.get)
        row |= {"torch_variant": best.removeprefix("torch "), "torch_ms": 1e3 * torch_times[best],
                "torch_gbs": moved / torch_times[best] / 1e9,
                "axonic_vs_torch": torch_times[best] / seconds["axonic"],
                **{f"{name.replace(' ', '_').replace('-', '_')}_ms": 1e3 * s
                   for name, s in torch_times.items()}}
    return row


def _columns(torch) -> list[Column]:
    columns = [Column("optimizer", "optimizer"), Column("bytes_per_param", "bytes/param"),
               Column("axonic_ms", "axonic ms", "{:.2f}"),
               Column("axonic_gbs", "axonic GB/s", "{:.1f}", plot=True),
               Column("copy_gbs", "copy GB/s", "{:.1f}", plot=True),
               Column("copy_percent", "% of copy", "{:.0f}%")]
    if torch is not None:
        columns += [Column("torch_variant", "torch best"),
                    Column("torch_ms", "torch ms", "{:.2f}"),
                    Column("torch_gbs", "torch GB/s", "{:.1f}", plot=True),
                    Column("axonic_vs_torch", "axonic/torch", "{:.2f}x")]
    return columns


def optim_table(optimizers: Sequence[str] | None = None, params: int = 10_000_000,
                tensors: int = 20, repeats: int = 20, threads: int | None = None,
                progress: Progress | None = None, device: str = "cpu") -> Table:
    """Measures each optimizer (keys of CASES_BY_LABEL; default all) on ``device`` and
    returns the table."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not axonic_cuda.is_available():
        raise BenchError(f"CUDA is not available: {axonic_cuda.why_unavailable()}")
    cases = [_case(name) for name in optimizers] if optimizers else OPTIMIZER_CASES
    sizes = tensor_sizes(params, tensors)
    torch = optional_torch()
    if torch is not None and device == "cuda" and not torch.cuda.is_available():
        torch = None
    progress = progress or Progress()
    try:
        with thread_count(threads, torch=torch) as n_threads:
            title = (f"optimizer step, {sum(sizes):,} float32 parameters in "
                     f"{plural(len(sizes), 'tensor')}, {plural(n_threads, 'thread')}, "
                     + (f"on {axonic_cuda.get_device_name()}" if device == "cuda"
                        else f"SIMD {_cpu.simd_level()}")
                     + (f", torch {torch.__version__}" if torch else "")
                     + "; GB/s = (bytes read + written) / median step time; copy = a "
                     "stream copy over the same memory")
            table = Table("optim", title, _columns(torch), unit="GB/s",
                          meta={"threads": n_threads, "elements": sum(sizes),
                                "tensors": len(sizes), "simd_level": _cpu.simd_level(),
                                "torch": torch.__version__ if torch else None})
            for case in cases:
                table.add(_measure(case, sizes, repeats, torch, progress, device))
    finally:
        progress.clear()
    return table


def _case(name: str) -> OptimizerCase:
    key = name.lower().replace(" ", "-")
    if key not in CASES_BY_LABEL:
        raise BenchError(f"unknown optimizer {name!r}; expected some of "
                         f"{', '.join(CASES_BY_LABEL)}")
    return CASES_BY_LABEL[key]


def run_optim_bench(optimizers: Sequence[str] | None = None, params: int = 10_000_000,
                    tensors: int = 20, repeats: int = 20, threads: int | None = None,
                    json_path: str | None = None, plot_path: str | None = None,
                    device: str = "cpu") -> int:
    """``axonic bench optim``: measures, prints the table, writes JSON/PNG. Returns 0."""
    if plot_path:
        require_matplotlib()
    if optimizers:
        for name in optimizers:
            _case(name)  # unknown names fail before any measuring
    report(optim_table(optimizers, params, tensors, repeats, threads, device=device), json_path,
           plot_path)
    return 0
