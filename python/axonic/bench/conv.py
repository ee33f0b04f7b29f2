"""``axonic bench conv``: float32 2-D convolution GFLOP/s, forward and forward+backward.

For each shape (the CNN layers of the default list, or ``--shapes``), axonic's
``nn.functional.conv2d`` through autograd is timed forward only and forward+backward
(grad of input, weight and bias), against ``torch.nn.functional.conv2d`` the same
way when PyTorch is installed, on the same thread count, interleaved (see
core.interleaved_seconds). Forward flops = 2 N Cout Ho Wo (Cin / groups) kh kw;
forward+backward counts 3x that (the input and weight gradients each cost one
forward; the bias gradient is negligible).

Before timing, axonic's forward is compared with torch's on the whole batch, or with
the NumPy reference kernels on the first two images when torch is missing; a
mismatch raises RuntimeError.

JSON rows (see core for the layout): {"shape": label, "n", "cin", "h", "w", "cout",
"kernel", "stride", "padding", "gflop": forward GFLOP, "axonic_fwd_gflops",
"axonic_fwdbwd_gflops", "torch_fwd_gflops", "torch_fwdbwd_gflops", "fwd_ratio",
"fwdbwd_ratio" (axonic / torch), "max_rel_error", "checked_against"}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import _cpu, backends
from .. import cuda as axonic_cuda
from ..creation import from_numpy, tensor
from ..nn import functional as F
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

# Shapes whose forward exceeds this many flops are left out by --quick.
QUICK_MAX_FLOPS = 5e9
# Seconds of timed calls per callable and shape (see core.interleaved_seconds).
BUDGET_SECONDS = 0.5


@dataclass(frozen=True)
class ConvShape:
    """Input (n, cin, h, w), cout square kernel x kernel filters, stride, padding."""

    n: int
    cin: int
    h: int
    w: int
    cout: int
    kernel: int
    stride: int = 1
    padding: int = 0

    def __post_init__(self) -> None:
        sizes = (self.n, self.cin, self.h, self.w, self.cout, self.kernel, self.stride)
        if min(sizes) <= 0 or self.padding < 0:
            raise BenchError(f"conv shape needs positive sizes and padding >= 0, got {self}")
        if self.out_h <= 0 or self.out_w <= 0:
            raise BenchError(f"conv shape {self.label}: the kernel does not fit the input")

    @property
    def out_h(self) -> int:
        return (self.h + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.w + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def flops(self) -> float:
        """Forward flops: 2 N Cout Ho Wo Cin kh kw."""
        return (2.0 * self.n * self.cout * self.out_h * self.out_w * self.cin
                * self.kernel * self.kernel)

    @property
    def label(self) -> str:
        text = f"{self.n}x{self.cin}x{self.h}x{self.w}->{self.cout} {self.kernel}x{self.kernel}"
        if self.stride != 1:
            text += f" s{self.stride}"
        return text


DEFAULT_CONV_SHAPES = [
    ConvShape(64, 1, 28, 28, 32, 3, 1, 1),
    ConvShape(64, 32, 14, 14, 64, 3, 1, 1),
    ConvShape(32, 64, 32, 32, 128, 3, 1, 1),
    ConvShape(32, 3, 32, 32, 64, 3, 1, 1),
    ConvShape(32, 64, 56, 56, 64, 1, 1, 0),
    ConvShape(32, 3, 224, 224, 64, 7, 2, 3),
]


def parse_conv_shape(text: str) -> ConvShape:
    """'N,Cin,H,W,Cout,K[,stride[,padding]]'; padding defaults to K // 2."""
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if not 6 <= len(parts) <= 8:
        raise BenchError(f"expected a conv shape N,Cin,H,W,Cout,K[,stride[,padding]], got "
                         f"{text!r}")
    stride = parts[6] if len(parts) > 6 else 1
    padding = parts[7] if len(parts) > 7 else parts[5] // 2
    return ConvShape(*parts[:6], stride, padding)


def conv_operands(shape: ConvShape) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Input, weight, bias and an output gradient, float32, seeded."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((shape.n, shape.cin, shape.h, shape.w), dtype=np.float32)
    scale = 1.0 / np.sqrt(shape.cin * shape.kernel * shape.kernel)
    weight = (scale * rng.standard_normal((shape.cout, shape.cin, shape.kernel, shape.kernel),
                                          dtype=np.float32)).astype(np.float32)
    bias = rng.standard_normal(shape.cout, dtype=np.float32)
    grad = rng.standard_normal((shape.n, shape.cout, shape.out_h, shape.out_w),
                               dtype=np.float32)
    return x, weight, bias, grad


def axonic_calls(shape: ConvShape, x, weight, bias, grad,
                 device: str = "cpu") -> dict[str, Callable[[], object]]:
    """The forward and the forward+backward of axonic's conv2d (through autograd) on
    ``device``; a CUDA call waits for the GPU, so the time is the kernels'."""
    def on_device(a):
        return from_numpy(a) if device == "cpu" else tensor(a, device=device)

    xs, ws, bs = on_device(x), on_device(weight), on_device(bias)
    xg, wg, bg = (on_device(a).requires_grad_() for a in (x, weight, bias))
    g = on_device(grad)

    def forward():
        out = F.conv2d(xs, ws, bs, stride=shape.stride, padding=shape.padding)
        axonic_cuda.synchronize()
        return out

    def forward_backward():
        for t in (xg, wg, bg):
            t.grad = None
        F.conv2d(xg, wg, bg, stride=shape.stride, padding=shape.padding).backward(g)
        axonic_cuda.synchronize()

    return {"axonic fwd": forward, "axonic fwd+bwd": forward_backward}


def torch_calls(shape: ConvShape, torch, x, weight, bias, grad,
                device: str = "cpu") -> dict[str, Callable[[], object]]:
    """The same two calls with torch.nn.functional.conv2d (cuDNN on ``cuda``)."""
    conv = torch.nn.functional.conv2d
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if device == "cuda":  # cuDNN defaults to TF32; axonic's conv kernels are plain float32
        torch.backends.cudnn.allow_tf32 = False
    xs, ws, bs = (torch.from_numpy(a).to(device) for a in (x, weight, bias))
    xg, wg, bg = (torch.from_numpy(a.copy()).to(device).requires_grad_()
                  for a in (x, weight, bias))
    g = torch.from_numpy(grad).to(device)

    def forward():
        with torch.no_grad():
            out = conv(xs, ws, bs, stride=shape.stride, padding=shape.padding)
        sync()
        return out

    def forward_backward():
        for t in (xg, wg, bg):
            t.grad = None
        conv(xg, wg, bg, stride=shape.stride, padding=shape.padding).backward(g)
        sync()

    return {"torch fwd": forward, "torch fwd+bwd": forward_backward}


def check_forward(shape: ConvShape, torch, x, weight, bias,
                  device: str = "cpu") -> tuple[float, str]:
    """Max error of axonic's forward on ``device`` relative to the largest output, against
    torch on the CPU (the whole batch) or the reference kernels (the first two images).
    RuntimeError above 1e-4."""
    out = F.conv2d(tensor(x, device=device), tensor(weight, device=device),
                   tensor(bias, device=device), stride=shape.stride,
                   padding=shape.padding).numpy()
    if torch is not None:
        expected = torch.nn.functional.conv2d(
            torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias),
            stride=shape.stride, padding=shape.padding).numpy()
        peer = "torch"
    else:
        head = np.ascontiguousarray(x[:2])
        backends.use_reference_kernels(True)
        try:
            expected = F.conv2d(from_numpy(head), from_numpy(weight), from_numpy(bias),
                                stride=shape.stride, padding=shape.padding).numpy()
        finally:
            backends.use_reference_kernels(False)
        out, peer = out[:2], "reference"
    error = float(np.max(np.abs(out.astype(np.float64) - expected))
                  / max(float(np.max(np.abs(expected))), 1e-30))
    if not np.isfinite(error) or error > 1e-4:
        raise RuntimeError(f"conv2d forward wrong on {shape.label}: max relative error "
                           f"{error:.3g} against {peer}")
    return error, peer


def _measure(shape: ConvShape, repeats: int, torch, progress: Progress,
             device: str = "cpu") -> dict[str, object]:
    x, weight, bias, grad = conv_operands(shape)
    progress.show(f"checking {shape.label}...")
    error, peer = check_forward(shape, torch, x, weight, bias, device)
    fns = axonic_calls(shape, x, weight, bias, grad, device)
    if _torch_on(torch, device):
        fns |= torch_calls(shape, torch, x, weight, bias, grad, device)
    for fn in fns.values():  # first calls (one-time setup) stay out of the cost estimate
        fn()
    timing = interleaved_seconds(fns, repeats, budget_seconds=BUDGET_SECONDS, on_start=lambda name:
                                 progress.show(f"measuring {shape.label} ({name})..."))
    seconds = timing.seconds
    flops = {"fwd": shape.flops, "fwdbwd": 3 * shape.flops}
    row: dict[str, object] = {
        "shape": shape.label, "n": shape.n, "cin": shape.cin, "h": shape.h, "w": shape.w,
        "cout": shape.cout, "kernel": shape.kernel, "stride": shape.stride,
        "padding": shape.padding, "gflop": shape.flops / 1e9,
        "axonic_fwd_gflops": flops["fwd"] / seconds["axonic fwd"] / 1e9,
        "axonic_fwdbwd_gflops": flops["fwdbwd"] / seconds["axonic fwd+bwd"] / 1e9,
        "max_rel_error": error, "checked_against": peer, "repeats": timing.repeats,
    }
    if _torch_on(torch, device):
        row["torch_fwd_gflops"] = flops["fwd"] / seconds["torch fwd"] / 1e9
        row["torch_fwdbwd_gflops"] = flops["fwdbwd"] / seconds["torch fwd+bwd"] / 1e9
        row["fwd_ratio"] = row["axonic_fwd_gflops"] / row["torch_fwd_gflops"]
        row["fwdbwd_ratio"] = row["axonic_fwdbwd_gflops"] / row["torch_fwdbwd_gflops"]
    return row


def _torch_on(torch, device: str) -> bool:
    """Whether torch is there to compare with on ``device``."""
    return torch is not None and (device == "cpu" or torch.cuda.is_available())


def _columns(torch) -> list[Column]:
    columns = [Column("shape", "shape"),
               Column("axonic_fwd_gflops", "axonic fwd GFLOP/s", "{:.1f}", plot=True),
               Column("axonic_fwdbwd_gflops", "axonic fwd+bwd GFLOP/s", "{:.1f}", plot=True)]
    if torch is not None:
        columns += [Column("torch_fwd_gflops", "torch fwd GFLOP/s", "{:.1f}", plot=True),
                    Column("torch_fwdbwd_gflops", "torch fwd+bwd GFLOP/s", "{:.1f}", plot=True),
                    Column("fwd_ratio", "fwd axonic/torch", "{:.2f}x"),
                    Column("fwdbwd_ratio", "fwd+bwd axonic/torch", "{:.2f}x")]
    return columns


def select_shapes(shapes: Sequence[ConvShape] | None, quick: bool) -> list[ConvShape]:
    """The shapes to run: ``shapes`` or the defaults, without the heavy ones when
    ``quick`` (forward above QUICK_MAX_FLOPS)."""
    chosen = list(shapes) if shapes else list(DEFAULT_CONV_SHAPES)
    if quick:
        chosen = [s for s in chosen if s.flops <= QUICK_MAX_FLOPS]
    if not chosen:
        raise BenchError(f"no conv shape left: --quick drops shapes above "
                         f"{QUICK_MAX_FLOPS / 1e9:g} GFLOP")
    return chosen


def conv_table(shapes: Sequence[ConvShape] | None = None, repeats: int = 5,
               threads: int | None = None, quick: bool = False,
               progress: Progress | None = None, device: str = "cpu") -> Table:
    """Measures each shape on ``device`` ('cpu' or 'cuda', against torch on the same
    device: cuDNN on a GPU) and returns the table."""
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not axonic_cuda.is_available():
        raise BenchError(f"CUDA is not available: {axonic_cuda.why_unavailable()}")
    chosen = select_shapes(shapes, quick)
    torch = optional_torch()
    progress = progress or Progress()
    where = (f"on {axonic_cuda.get_device_name()}" if device == "cuda"
             else f"SIMD {_cpu.simd_level()}")
    try:
        with thread_count(threads, torch=torch) as n_threads:
            title = (f"float32 conv2d, {plural(n_threads, 'thread')}, {where}"
                     + (f", torch {torch.__version__}" if _torch_on(torch, device) else "")
                     + "; fwd flops = 2 N Cout Ho Wo Cin kh kw, fwd+bwd = 3x; "
                     "median time per call")
            torch_here = torch if _torch_on(torch, device) else None
            table = Table("conv", title, _columns(torch_here),
                          meta={"threads": n_threads, "simd_level": _cpu.simd_level(),
                                "device": device,
                                "torch": torch.__version__ if torch_here else None})
            for shape in chosen:
                table.add(_measure(shape, repeats, torch, progress, device))
    finally:
        progress.clear()
    return table


def run_conv_bench(shapes: Sequence[str] | Sequence[ConvShape] | None = None, repeats: int = 5,
                   threads: int | None = None, quick: bool = False,
                   json_path: str | None = None, plot_path: str | None = None,
                   device: str = "cpu") -> int:
    """``axonic bench conv``: measures, prints the table, writes JSON/PNG. Returns 0."""
    if plot_path:
        require_matplotlib()
    parsed = [s if isinstance(s, ConvShape) else parse_conv_shape(s) for s in shapes or []]
    report(conv_table(parsed or None, repeats, threads, quick, device=device), json_path,
           plot_path)
    return 0
