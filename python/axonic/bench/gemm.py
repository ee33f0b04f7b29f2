"""``axonic bench gemm``: float32 GEMM GFLOP/s of axonic against its peers.

Columns: the shape (M x K x N of op(A) @ op(B), "(A^T)" when A is stored transposed),
GFLOP/s (2 M K N flops over the median time) of axonic, numpy.matmul, torch.matmul
(when PyTorch is installed), and with ``device="cuda"|"all"`` axonic's CUDA kernel
and cuBLAS through CuPy (``tf32``: also both on the tensor cores), axonic's speed-up
over each peer, and axonic's share of the measured FMA peak
(``_cpu.fma_peak``, same threads). Every library runs on the same thread count.

Each peer's result is checked against a float64 product before anything is timed;
a wrong result raises RuntimeError. Timing interleaves the libraries
(core.interleaved_seconds). JSON rows (see core for the layout) hold shape, m, k, n,
trans_a, trans_b, flops, <peer>_gflops for axonic/numpy/torch/cublas/axonic_cuda and,
with tf32, axonic_tf32/torch_tf32 (absent when not measured), the ratios
axonic_vs_numpy, axonic_vs_torch, axonic_cuda_vs_cublas, axonic_tf32_vs_torch_tf32 and
axonic_cuda_vs_axonic (GPU over CPU), peak_percent, max_rel_error (axonic's, as
defined in GemmReference) and repeats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Callable, NamedTuple

import numpy as np

from .. import _cpu
from .. import cuda as axonic_cuda
from .core import (
    BenchError,
    Column,
    Progress,
    Table,
    interleaved_seconds,
    numpy_blas,
    optional_torch,
    plural,
    report,
    require_matplotlib,
    thread_count,
)


class GemmShape(NamedTuple):
    """op(A) (m x k) @ op(B) (k x n); A is stored k x m when trans_a, B n x k when trans_b."""

    m: int
    k: int
    n: int
    trans_a: bool = False
    trans_b: bool = False

    @property
    def label(self) -> str:
        marks = [name for name, t in (("A^T", self.trans_a), ("B^T", self.trans_b)) if t]
        suffix = f" ({', '.join(marks)})" if marks else ""
        return f"{self.m}x{self.k}x{self.n}{suffix}"

    @property
    def flops(self) -> float:
        return 2.0 * self.m * self.k * self.n


# Squares, then the products of a 784-256-10 MLP at batch 128: batch-1 inference, the
# hidden layer, the classifier head, a weight-gradient-like product, and the backward
# of the hidden layer (W stored out x in = 256 x 784): grad-input g @ W (128x256x784)
# and grad-weight g^T @ x (256x128x784, A = g stored 128 x 256). Last, batch-1 inference
# and the head as nn.Linear runs them, x @ W^T with W stored out x in.
DEFAULT_GEMM_SHAPES = [GemmShape(s, s, s) for s in (256, 512, 1024, 2048, 4096)] + [
    GemmShape(1, 784, 256), GemmShape(128, 784, 256), GemmShape(128, 256, 10),
    GemmShape(784, 128, 256), GemmShape(128, 256, 784), GemmShape(256, 128, 784, trans_a=True),
    GemmShape(1, 784, 256, trans_b=True), GemmShape(128, 256, 10, trans_b=True),
]

FLOAT32_EPS = 2.0 ** -24  # unit roundoff
TF32_EPS = 2.0 ** -11  # unit roundoff of TF32 (10 stored mantissa bits)
PEAK_SECONDS = 0.1  # each of the three FMA peak runs behind "% of peak"


def gemm_operands(shape: GemmShape, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal float32 A and B in their stored layouts."""
    m, k, n, trans_a, trans_b = shape
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    return a, b


def _op(x, transposed: bool):
    return x.T if transposed else x


class GemmReference:
    """op(A) @ op(B) in float64 on a sample of rows (all of them up to 256 rows, else
    256 spread over M, the first and last included), and the error measure.

    max_rel_error = max |C - C64| / (|op(A)| @ |op(B)|), elementwise: float32
    accumulation of k terms stays within k eps of that scale in the worst case and near
    eps for random data. The tolerance, 8 eps sqrt(k), sits between the two, which is
    still far below a dropped or doubled term (about 1/k of the scale).
    """

    def __init__(self, shape: GemmShape, a: np.ndarray, b: np.ndarray) -> None:
        self.shape = shape
        self.rows = np.unique(np.linspace(0, shape.m - 1, min(shape.m, 256)).astype(np.int64))
        a_rows = _op(a, shape.trans_a).astype(np.float64)[self.rows]
        b64 = _op(b, shape.trans_b).astype(np.float64)
        self.expected = a_rows @ b64
        self.scale = np.maximum(np.abs(a_rows) @ np.abs(b64), np.finfo(np.float64).tiny)
        self.sqrt_k = math.sqrt(max(shape.k, 1))

    def check(self, name: str, out: np.ndarray, eps: float = FLOAT32_EPS) -> float:
        """The max relative error of a peer's result; RuntimeError when out of bounds
        (8 eps sqrt(k), eps the unit roundoff of the peer's input precision)."""
        tolerance = 8 * eps * self.sqrt_k
        sample = np.asarray(out)[self.rows].astype(np.float64)
        with np.errstate(invalid="ignore"):
            error = float(np.max(np.abs(sample - self.expected) / self.scale, initial=0.0))
        if not error <= tolerance:  # NaN fails too
            raise RuntimeError(f"{name} GEMM is wrong on {self.shape.label}: relative error "
                               f"{error:.2e} > {tolerance:.2e}")
        return error


class Peer(NamedTuple):
    run: Callable[[], object]  # one product into a preallocated output
    result: Callable[[], np.ndarray]  # that output, on the host


def cpu_peers(shape: GemmShape, a: np.ndarray, b: np.ndarray, torch=None) -> dict[str, Peer]:
    """axonic, numpy and (when given) torch, each writing its own output array."""
    m, _, n, trans_a, trans_b = shape
    outs = {name: np.empty((m, n), np.float32) for name in ("axonic", "numpy", "torch")}
    a_op, b_op = _op(a, trans_a), _op(b, trans_b)
    # Positional, as the library's own layers call it: keywords cost a native binding
    # 0.4 us a call, more than a 16^3 product takes.
    peers = {
        "axonic": Peer(lambda: _cpu.gemm(a, b, outs["axonic"], trans_a, trans_b, 1.0, 0.0),
                       lambda: outs["axonic"]),
        "numpy": Peer(lambda: np.matmul(a_op, b_op, out=outs["numpy"]), lambda: outs["numpy"]),
    }
    if torch is not None:
        ta, tb = torch.from_numpy(a_op), torch.from_numpy(b_op)  # views, strides kept
        t_out = torch.from_numpy(outs["torch"])
        peers["torch"] = Peer(lambda: torch.matmul(ta, tb, out=t_out), lambda: outs["torch"])
    return peers


def require_cupy():
    """CuPy for the cuBLAS column, or BenchError saying why the GPU cannot be used."""
    if axonic_cuda.device_count() == 0:
        raise BenchError(f"CUDA is not available: {axonic_cuda.why_unavailable()}. "
                         "--device cpu measures the CPU alone")
    try:
        import cupy
    except ImportError as error:
        raise BenchError("the cuda column times cuBLAS through CuPy: "
                         "pip install cupy-cuda12x") from error
    return cupy


def cuda_peers(shape: GemmShape, a: np.ndarray, b: np.ndarray, cupy, tf32: bool = False,
               torch=None) -> dict[str, Peer]:
    """cuBLAS (cupy.matmul) and axonic's CUDA kernel on device copies, each run
    synchronised so the time is the GPU's. With ``tf32``, also axonic's tensor-core
    path and (when PyTorch has CUDA) cuBLAS in TF32 through torch.matmul."""
    from .. import _cuda

    m, _, n, trans_a, trans_b = shape
    da, db = cupy.asarray(a), cupy.asarray(b)
    outs = {name: cupy.empty((m, n), cupy.float32) for name in ("cublas", "axonic_cuda",
                                                                  "axonic_tf32")}

    def synced(product: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            product()
            cupy.cuda.get_current_stream().synchronize()
        return run

    def axonic_gemm(name: str, allow_tf32: bool) -> Peer:
        return Peer(synced(lambda: _cuda.gemm(
            da, db, outs[name], trans_a=trans_a, trans_b=trans_b, allow_tf32=allow_tf32,
            stream=cupy.cuda.get_current_stream().ptr)), lambda: cupy.asnumpy(outs[name]))

    peers = {
        "cublas": Peer(synced(lambda: cupy.matmul(_op(da, trans_a), _op(db, trans_b),
                                                  out=outs["cublas"])),
                       lambda: cupy.asnumpy(outs["cublas"])),
        "axonic_cuda": axonic_gemm("axonic_cuda", False),
    }
    if tf32:
        peers["axonic_tf32"] = axonic_gemm("axonic_tf32", True)
        if torch is not None and torch.cuda.is_available():
            ta = _op(torch.from_numpy(a).cuda(), trans_a)
            tb = _op(torch.from_numpy(b).cuda(), trans_b)
            t_out = torch.empty((m, n), device="cuda")

            def torch_tf32() -> None:
                torch.backends.cuda.matmul.allow_tf32 = True
                torch.matmul(ta, tb, out=t_out)
                torch.cuda.synchronize()

            peers["torch_tf32"] = Peer(torch_tf32, lambda: t_out.cpu().numpy())
    return peers


_HEADERS = {"axonic": "axonic", "numpy": "numpy", "torch": "torch", "cublas": "cuBLAS",
            "axonic_cuda": "axonic CUDA", "axonic_tf32": "axonic TF32",
            "torch_tf32": "cuBLAS TF32 (torch)"}
# (faster, slower): ratio columns named faster_vs_slower, when both are measured.
_RATIOS = (("axonic", "numpy"), ("axonic", "torch"), ("axonic_cuda", "cublas"),
           ("axonic_tf32", "torch_tf32"), ("axonic_cuda", "axonic"))


def _columns(names: Sequence[str]) -> list[Column]:
    columns = [Column("shape", "shape MxKxN")]
    columns += [Column(f"{p}_gflops", f"{_HEADERS[p]} GFLOP/s", "{:.1f}", plot=True)
                for p in names]
    columns += [Column(f"{a}_vs_{b}", f"{_HEADERS[a]}/{_HEADERS[b]}", "{:.2f}x")
                for a, b in _RATIOS if a in names and b in names]
    if "axonic" in names:
        columns.append(Column("peak_percent", "% of peak", "{:.0f}%"))
    return columns


def gemm_table(shapes: Sequence[Sequence[int]] | None = None, repeats: int = 5,
               threads: int | None = None, device: str = "cpu",
               progress: Progress | None = None, tf32: bool = False) -> Table:
    """Measures every shape (GemmShape or (m, k, n)) and returns the filled table;
    ``tf32`` adds the tensor-core columns on CUDA."""
    if device not in ("cpu", "cuda", "all"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'all', got {device!r}")
    cupy = require_cupy() if device in ("cuda", "all") else None
    torch = optional_torch() if device in ("cpu", "all") or tf32 else None
    shapes = [GemmShape(*s) for s in (shapes or DEFAULT_GEMM_SHAPES)]
    progress = progress or Progress()
    try:
        with thread_count(threads, torch=torch, blas=True) as n_threads:
            peak = None
            if device != "cuda":
                progress.show(f"measuring the float32 FMA peak on {n_threads} threads...")
                # A ceiling: the best of three short runs, so a busy neighbour lowers it less.
                peak = max((_cpu.fma_peak("float32", PEAK_SECONDS) for _ in range(3)),
                           key=lambda p: p["gflops"])
            names = ["axonic", "numpy"] + (["torch"] if torch else []) if peak else []
            if cupy is not None:
                names += ["cublas", "axonic_cuda"] + (["axonic_tf32"] if tf32 else [])
                names += ["torch_tf32"] if tf32 and torch and torch.cuda.is_available() else []
            table = Table("gemm", _title(n_threads, peak, torch, cupy, repeats),
                          _columns(names), meta=_meta(n_threads, peak, torch, cupy))
            for shape in shapes:
                table.add(_measure(shape, repeats, torch, cupy, device, peak, progress, tf32))
    finally:
        progress.clear()
    return table


def _measure(shape: GemmShape, repeats: int, torch, cupy, device: str,
             peak: dict | None, progress: Progress, tf32: bool = False) -> dict[str, object]:
    progress.show(f"measuring {shape.label} (checking)...")
    a, b = gemm_operands(shape)
    peers = cpu_peers(shape, a, b, torch) if device != "cuda" else {}
    if cupy is not None:
        peers |= cuda_peers(shape, a, b, cupy, tf32, torch)
    reference = GemmReference(shape, a, b)
    errors = {}
    for name, peer in peers.items():
        peer.run()
        errors[name] = reference.check(name, peer.result(),
                                       TF32_EPS if name.endswith("tf32") else FLOAT32_EPS)
    timing = interleaved_seconds({name: peer.run for name, peer in peers.items()}, repeats,
                                 on_start=lambda name: progress.show(
                                     f"measuring {shape.label} ({name})..."))
    gflops = {name: shape.flops / s / 1e9 for name, s in timing.seconds.items()}
    row: dict[str, object] = {
        "shape": shape.label, "m": shape.m, "k": shape.k, "n": shape.n,
        "trans_a": shape.trans_a, "trans_b": shape.trans_b, "flops": shape.flops,
        **{f"{name}_gflops": g for name, g in gflops.items()},
        "max_rel_error": errors.get("axonic"), "repeats": timing.repeats,
    }
    for faster, slower in _RATIOS:
        if faster in gflops and slower in gflops:
            row[f"{faster}_vs_{slower}"] = gflops[faster] / gflops[slower]
    if "axonic" in gflops:
        row["peak_percent"] = 100.0 * gflops["axonic"] / peak["gflops"]
    return row


def _title(threads: int, peak: dict | None, torch, cupy, repeats: int) -> str:
    parts = [f"float32 GEMM, {plural(threads, 'thread')}"]
    if peak is not None:
        parts.append(f"kernel {_cpu.gemm_kernel_name()}, FMA peak {peak['gflops']:.0f} GFLOP/s "
                     f"({peak['isa']})")
    blas = numpy_blas()
    numpy_name = f"numpy {np.__version__}" + (f" ({blas})" if blas else "")
    peers = [numpy_name] if peak is not None else []
    peers += [f"torch {torch.__version__}"] if torch is not None else []
    peers += [f"cupy {cupy.__version__}"] if cupy is not None else []
    return (", ".join(parts + peers) + f"; median of at most {plural(repeats, 'run')} for long "
            "shapes, of up to 1000 calls (about 1 s) for short ones")


def _meta(threads: int, peak: dict | None, torch, cupy) -> dict[str, object]:
    return {"dtype": "float32", "threads": threads, "kernel": _cpu.gemm_kernel_name(),
            "simd_level": _cpu.simd_level(), "peak_gflops": peak["gflops"] if peak else None,
            "numpy": np.__version__, "numpy_blas": numpy_blas(),
            "torch": torch.__version__ if torch else None,
            "cupy": cupy.__version__ if cupy else None}


def run_gemm_bench(sizes: Sequence[Sequence[int]] | None = None, repeats: int = 5,
                   json_path: str | None = None, threads: int | None = None,
                   device: str = "cpu", plot_path: str | None = None, tf32: bool = False) -> int:
    """``axonic bench gemm``: measures, prints the table, writes JSON/PNG. Returns 0;
    raises BenchError when the device or --plot cannot be served."""
    if plot_path:
        require_matplotlib()  # fail before minutes of measuring, not after
    report(gemm_table(sizes, repeats, threads, device, tf32=tf32), json_path, plot_path)
    return 0
