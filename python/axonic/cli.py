"""The ``axonic`` command: ``axonic info``, ``axonic demo``,
``axonic bench peak|gemm|optim|conv|train-step``."""

from __future__ import annotations

import argparse
import os
import sys


def _info(args: argparse.Namespace) -> int:
    from .info import info

    print(info())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run

    accuracy = run(epochs=args.epochs, hidden=args.hidden, lr=args.lr,
                   batch_size=args.batch_size, seed=args.seed)
    return 0 if accuracy > 0 else 1


def _run_bench(run, **kwargs) -> int:
    """Runs a benchmark; a BenchError (no GPU, no matplotlib...) exits with status 2."""
    from .bench import BenchError

    try:
        return run(**kwargs)
    except BenchError as error:
        print(f"axonic bench: error: {error}", file=sys.stderr)
        return 2


def _bench_gemm(args: argparse.Namespace) -> int:
    from .bench import run_gemm_bench

    return _run_bench(run_gemm_bench, sizes=args.sizes, repeats=args.repeats,
                      json_path=args.json, threads=args.threads, device=args.device,
                      plot_path=args.plot, tf32=args.tf32)


def _bench_peak(args: argparse.Namespace) -> int:
    from .bench import run_peak_bench

    return _run_bench(run_peak_bench, dtype=args.dtype, seconds=args.seconds,
                      threads=args.threads, json_path=args.json)


def _bench_optim(args: argparse.Namespace) -> int:
    from .bench import run_optim_bench

    return _run_bench(run_optim_bench, optimizers=args.optimizers, params=args.params,
                      tensors=args.tensors, repeats=args.repeats, threads=args.threads,
                      json_path=args.json, plot_path=args.plot, device=args.device)


def _bench_conv(args: argparse.Namespace) -> int:
    from .bench import run_conv_bench

    return _run_bench(run_conv_bench, shapes=args.shapes, repeats=args.repeats,
                      threads=args.threads, quick=args.quick, json_path=args.json,
                      plot_path=args.plot, device=args.device)


def _bench_train_step(args: argparse.Namespace) -> int:
    from .bench import run_train_step_bench

    return _run_bench(run_train_step_bench, batch=args.batch, repeats=args.repeats,
                      threads=args.threads, memory=not args.no_memory, json_path=args.json,
                      plot_path=args.plot)


def _conv_shape(text: str):
    """'N,Cin,H,W,Cout,K[,stride[,padding]]' as a ConvShape."""
    from .bench import BenchError
    from .bench.conv import parse_conv_shape

    try:
        return parse_conv_shape(text)
    except BenchError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 60:
        raise argparse.ArgumentTypeError(f"expected seconds in (0, 60], got {text}")
    return value


def _shape(text: str) -> tuple[int, int, int]:
    """'512' means 512x512x512; 'MxKxN' gives each."""
    parts = [_positive_int(p) for p in text.lower().split("x")]
    if len(parts) == 1:
        return parts[0], parts[0], parts[0]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected N or MxKxN, got {text}")
    return parts[0], parts[1], parts[2]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axonic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="version, build, threads, SIMD level, CUDA")
    info.set_defaults(run=_info)

    demo = commands.add_parser("demo", help="train an MLP on the bundled 8x8 digits data")
    demo.add_argument("--epochs", type=_positive_int, default=20)
    demo.add_argument("--hidden", type=_positive_int, default=128)
    demo.add_argument("--lr", type=float, default=0.05)
    demo.add_argument("--batch-size", type=_positive_int, default=64)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)

    bench = commands.add_parser("bench", help="kernel benchmarks against NumPy and PyTorch")
    kernels = bench.add_subparsers(dest="kernel", required=True)

    peak = kernels.add_parser("peak", help="FMA peak GFLOP/s of this CPU for the ISA in use")
    peak.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    peak.add_argument("--seconds", type=_seconds, default=0.5,
                      help="measuring time per thread (default 0.5)")
    peak.add_argument("--threads", type=_positive_int, default=None)
    peak.add_argument("--json", metavar="FILE", default=None, help="also write results as JSON")
    peak.set_defaults(run=_bench_peak)

    gemm = kernels.add_parser("gemm", help="float32 GEMM GFLOP/s: axonic, numpy, torch, cuBLAS")
    gemm.add_argument("--sizes", type=_shape, nargs="+", default=None,
                      help="N (square) or MxKxN; default: squares 256-4096 and MLP shapes")
    gemm.add_argument("--repeats", type=_positive_int, default=5,
                      help="timed runs per shape and library for shapes over 10 ms a call "
                           "(fewer if they exceed ~1 s); short ones get up to 1000 calls; "
                           "the median is reported")
    gemm.add_argument("--threads", type=_positive_int, default=None,
                      help="threads for every library (default: axonic's thread count)")
    gemm.add_argument("--device", choices=["cpu", "cuda", "all"], default="cpu",
                      help="cpu: axonic/numpy/torch; cuda: axonic's CUDA kernel and cuBLAS "
                           "via CuPy; all: both, with the GPU/CPU ratio")
    gemm.add_argument("--tf32", action="store_true",
                      help="with cuda/all: also the tensor-core (TF32) path against cuBLAS TF32")
    gemm.add_argument("--json", metavar="FILE", default=None, help="also write results as JSON")
    gemm.add_argument("--plot", metavar="FILE", default=None,
                      help="also draw a PNG bar chart (needs matplotlib: axonic[plot])")
    gemm.set_defaults(run=_bench_gemm)

    from .bench.optim import CASES_BY_LABEL

    optimizers = kernels.add_parser(
        "optim", help="optimizer step time and GB/s against a stream copy and torch")
    optimizers.add_argument("--optimizers", nargs="+", choices=list(CASES_BY_LABEL),
                            default=None, help="default: all of them")
    optimizers.add_argument("--params", type=_positive_int, default=10_000_000,
                            help="float32 parameters in all (default 10,000,000)")
    optimizers.add_argument("--tensors", type=_positive_int, default=20,
                            help="tensors they are spread over (default 20)")
    optimizers.add_argument("--repeats", type=_positive_int, default=20,
                            help="timed steps per optimizer and peer (median reported)")
    optimizers.add_argument("--threads", type=_positive_int, default=None,
                            help="threads for axonic and torch (default: axonic's count)")
    optimizers.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                            help="cuda: the fused CUDA updates against a device copy and "
                                 "torch on the GPU (try --params 100000000)")
    optimizers.add_argument("--json", metavar="FILE", default=None,
                            help="also write results as JSON")
    optimizers.add_argument("--plot", metavar="FILE", default=None,
                            help="also draw a PNG bar chart (needs matplotlib: axonic[plot])")
    optimizers.set_defaults(run=_bench_optim)

    conv = kernels.add_parser(
        "conv", help="float32 conv2d GFLOP/s, forward and forward+backward, against torch")
    conv.add_argument("--shapes", type=_conv_shape, nargs="+", default=None,
                      metavar="N,CIN,H,W,COUT,K[,STRIDE[,PAD]]",
                      help="default: the CNN layer shapes (padding defaults to K // 2)")
    conv.add_argument("--quick", action="store_true",
                      help="leave out shapes above 5 GFLOP forward (the 224x224 7x7 one)")
    conv.add_argument("--repeats", type=_positive_int, default=5,
                      help="timed calls per shape and side for calls over 10 ms (median "
                           "reported); short ones get up to 1000 calls")
    conv.add_argument("--threads", type=_positive_int, default=None,
                      help="threads for axonic and torch (default: axonic's count)")
    conv.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                      help="cuda: axonic's CUDA kernels against cuDNN (torch on the GPU)")
    conv.add_argument("--json", metavar="FILE", default=None, help="also write results as JSON")
    conv.add_argument("--plot", metavar="FILE", default=None,
                      help="also draw a PNG bar chart (needs matplotlib: axonic[plot])")
    conv.set_defaults(run=_bench_conv)

    train = kernels.add_parser(
        "train-step", help="LeNet training steps/s and peak memory, axonic against torch")
    train.add_argument("--batch", type=_positive_int, default=64)
    train.add_argument("--repeats", type=_positive_int, default=20,
                       help="timed steps per library (median reported)")
    train.add_argument("--threads", type=_positive_int, default=None,
                       help="threads for axonic and torch (default: axonic's count)")
    train.add_argument("--no-memory", action="store_true",
                       help="skip the peak-memory subprocesses")
    train.add_argument("--json", metavar="FILE", default=None, help="also write results as JSON")
    train.add_argument("--plot", metavar="FILE", default=None,
                       help="also draw a PNG bar chart (needs matplotlib: axonic[plot])")
    train.set_defaults(run=_bench_train_step)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # piped into `head` or a pager that quit: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
