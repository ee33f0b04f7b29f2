"""``axonic bench``: the FMA peak kernel, the shared table, the peak, gemm and optim
commands, and AXONIC_NUM_THREADS."""

import io
import json
import os
import sys

import numpy as np
import pytest

import axonic
from axonic import _cpu
from axonic.bench import BenchError, Column, GemmShape, Table, core, gemm, gemm_table, thread_count
from axonic.bench.core import Progress
from axonic.cli import main
from conftest import run_python

VECTOR_BITS = {"generic": 128, "avx2": 256, "avx512": 512}


@pytest.fixture
def quick(monkeypatch):
    """No settling pauses and short peak runs, so a CLI run takes well under a second."""
    monkeypatch.setattr(core, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(gemm, "PEAK_SECONDS", 0.01)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fma_peak_reports_every_thread(simd_level, dtype):
    peak = _cpu.fma_peak(dtype, 0.02)
    assert peak["isa"] == simd_level and peak["vector_bits"] == VECTOR_BITS[simd_level]
    assert peak["threads"] == _cpu.get_num_threads() == len(peak["per_thread"])
    assert all(g > 0 for g in peak["per_thread"])
    assert peak["gflops"] == pytest.approx(sum(peak["per_thread"]))


def test_fma_peak_runs_on_the_set_thread_count():
    with thread_count(1):
        assert _cpu.fma_peak(np.float32, 0.01)["threads"] == 1


@pytest.mark.parametrize("kwargs, error, message", [
    ({"dtype": "int32"}, ValueError, "float32 or float64, got int32"),
    ({"dtype": "float16"}, ValueError, "float32 or float64, got float16"),
    ({"dtype": "no such dtype"}, TypeError, "not understood"),
    ({"seconds": 0.0}, ValueError, "(0, 60]"),
    ({"seconds": 61.0}, ValueError, "(0, 60]"),
    ({"seconds": float("nan")}, ValueError, "(0, 60]"),
    ({"seconds": "1"}, TypeError, "incompatible function arguments"),
])
def test_fma_peak_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace("]", r"\]")):
        _cpu.fma_peak(**kwargs)


def test_bench_peak_prints_threads_and_total(capsys, tmp_path):
    path = tmp_path / "peak.json"
    assert main(["bench", "peak", "--seconds", "0.02", "--threads", "1", "--json",
                 str(path)]) == 0
    out = capsys.readouterr().out
    assert "FMA peak" in out and _cpu.simd_level() in out and "total" in out
    report = json.loads(path.read_text())
    assert report["benchmark"] == "peak" and report["meta"]["threads"] == 1
    assert [r["thread"] for r in report["results"]] == ["0", "total"]
    assert report["results"][-1]["gflops"] > 0


def test_bench_gemm_prints_a_table_and_writes_json(quick, capsys, tmp_path):
    path = tmp_path / "gemm.json"
    assert main(["bench", "gemm", "--sizes", "33", "7x13x5", "--repeats", "1",
                 "--json", str(path)]) == 0
    out = capsys.readouterr().out
    for header in ("axonic GFLOP/s", "numpy GFLOP/s", "axonic/numpy", "% of peak", "7x13x5"):
        assert header in out
    assert ("torch GFLOP/s" in out) == (core.optional_torch() is not None)
    report = json.loads(path.read_text())
    assert report["benchmark"] == "gemm" and report["meta"]["peak_gflops"] > 0
    results = report["results"]
    assert [(r["m"], r["k"], r["n"]) for r in results] == [(33, 33, 33), (7, 13, 5)]
    assert all(r["axonic_gflops"] > 0 and r["max_rel_error"] < 1e-4 for r in results)
    assert {c["key"] for c in report["columns"]} <= set(results[0])


def test_bench_gemm_runs_transposed_operands(quick):
    shapes = [GemmShape(9, 5, 7, trans_a=True), GemmShape(4, 6, 3, trans_b=True)]
    table = gemm_table(shapes, repeats=1)
    assert [r["shape"] for r in table.rows] == ["9x5x7 (A^T)", "4x6x3 (B^T)"]
    assert all(r["max_rel_error"] < 1e-5 for r in table.rows)


def test_gemm_check_rejects_a_wrong_product():
    shape = GemmShape(20, 30, 10)
    a, b = gemm.gemm_operands(shape)
    reference = gemm.GemmReference(shape, a, b)
    product = a @ b
    assert reference.check("numpy", product) < 1e-6
    product[19, 9] += 1.0
    with pytest.raises(RuntimeError, match="wrong on 20x30x10"):
        reference.check("numpy", product)


def test_bench_gemm_plot_writes_a_png(quick, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "gemm.png"
    assert main(["bench", "gemm", "--sizes", "16", "--repeats", "1", "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")


def test_bench_gemm_plot_without_matplotlib_fails_before_measuring(quick, monkeypatch, capsys,
                                                                   tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    path = tmp_path / "gemm.png"
    assert main(["bench", "gemm", "--sizes", "16", "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert "pip install 'axonic[plot]'" in captured.err and captured.out == ""
    assert not path.exists()


@pytest.mark.skipif(axonic.cuda.device_count() > 0, reason="a CUDA device is present")
@pytest.mark.parametrize("device", ["cuda", "all"])
def test_bench_gemm_on_cuda_without_a_gpu_exits_2(device, capsys):
    assert main(["bench", "gemm", "--sizes", "8", "--device", device]) == 2
    err = capsys.readouterr().err
    assert f"CUDA is not available: {axonic.cuda.why_unavailable()}" in err
    assert "--device cpu" in err


def test_table_renders_missing_cells_and_json():
    table = Table("demo", "title line", [Column("case", "case"),
                                         Column("speed", "speed GFLOP/s", "{:.1f}", plot=True),
                                         Column("peer", "peer GFLOP/s", "{:.1f}", plot=True)])
    table.add({"case": "first", "speed": 12.345})
    lines = table.render().splitlines()
    assert lines[0] == "title line" and lines[1].split() == ["case", "speed", "GFLOP/s", "peer",
                                                             "GFLOP/s"]
    assert lines[3].split() == ["first", "12.3", "-"]
    assert table.to_json()["results"] == [{"case": "first", "speed": 12.345, "peer": None}]


def test_thread_count_restores_the_previous_count():
    before = _cpu.get_num_threads()
    with thread_count(1) as n:
        assert n == 1 == _cpu.get_num_threads()
    assert _cpu.get_num_threads() == before


def test_numpy_blas_runs_on_the_bench_thread_count_and_is_named(quick):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    if not blas:
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl here")
    with thread_count(1, blas=True):
        assert all(lib["num_threads"] == 1 for lib in threadpoolctl.threadpool_info()
                   if lib["user_api"] == "blas")
    assert core.numpy_blas().split()[0] == blas[0]["internal_api"]
    assert f"numpy {np.__version__} ({core.numpy_blas()})" in gemm.gemm_table(
        [GemmShape(8, 8, 8)], repeats=1).title


def test_without_threadpoolctl_numpys_thread_count_is_a_warning(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import threadpoolctl fails
    assert core.numpy_blas() is None
    with pytest.warns(RuntimeWarning, match="pip install threadpoolctl"):
        with thread_count(1, blas=True) as n:
            assert n == 1


def test_axonic_num_threads_sets_the_threads_at_import():
    code = ("from axonic import _cpu, build_info; "
            "print(_cpu.get_num_threads(), build_info()['openmp_threads'])")
    result = run_python(code, AXONIC_NUM_THREADS="1", OMP_NUM_THREADS="2")  # AXONIC_ wins
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]


def test_axonic_num_threads_rejects_a_bad_value():
    result = run_python("import axonic", AXONIC_NUM_THREADS="two")
    assert result.returncode != 0
    assert "AXONIC_NUM_THREADS must be an integer from 1" in result.stderr
    assert "'two'" in result.stderr


def test_progress_rewrites_one_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(stream)
    progress.show("measuring 2048x2048x2048 (numpy)...")
    progress.show("measuring 1x2x3...")
    progress.clear()
    assert stream.getvalue().count("\r") == 4 and stream.getvalue().endswith("\r")
    quiet = io.StringIO()
    Progress(quiet).show("measuring...")
    assert quiet.getvalue() == ""


def test_bench_optim_prints_bandwidth_and_writes_json(quick, capsys, tmp_path):
    path = tmp_path / "optim.json"
    assert main(["bench", "optim", "--params", "40000", "--tensors", "4", "--repeats", "1",
                 "--optimizers", "sgd-momentum", "adam", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    for header in ("axonic GB/s", "copy GB/s", "% of copy", "SGD momentum", "Adam"):
        assert header in out
    assert ("torch GB/s" in out) == (core.optional_torch() is not None)
    report = json.loads(path.read_text())
    rows = report["results"]
    assert [r["optimizer"] for r in rows] == ["SGD momentum", "Adam"]
    assert [r["bytes_per_param"] for r in rows] == [20, 28]
    assert all(r["elements"] == 40000 and r["axonic_gbs"] > 0 and r["copy_gbs"] > 0
               for r in rows)


def test_optim_tensor_sizes_split_the_total():
    from axonic.bench.optim import tensor_sizes

    sizes = tensor_sizes(10_000_000, 20)
    assert len(sizes) == 20 and sum(sizes) == 10_000_000 and min(sizes) >= 64
    with pytest.raises(BenchError, match="at least 2 tensors"):
        tensor_sizes(100, 20)


def test_bench_optim_catches_a_wrong_kernel(monkeypatch):
    from axonic.backends import cpu
    from axonic.bench.optim import CASES_BY_LABEL, check_against_reference

    monkeypatch.setattr(cpu, "adam_update", lambda *args, **kwargs: None)  # updates nothing
    with pytest.raises(RuntimeError, match="Adam: native step differs"):
        check_against_reference(CASES_BY_LABEL["adam"])


def test_bench_optim_rejects_an_unknown_optimizer(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "optim", "--optimizers", "lbfgs"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.fixture
def quick_models(quick, monkeypatch):
    """``quick`` plus short timing budgets for bench conv and bench train-step."""
    from axonic.bench import conv, train_step

    monkeypatch.setattr(conv, "BUDGET_SECONDS", 0.01)
    monkeypatch.setattr(train_step, "BUDGET_SECONDS", 0.01)


def test_bench_conv_prints_a_table_and_writes_json(quick_models, capsys, tmp_path):
    path = tmp_path / "conv.json"
    assert main(["bench", "conv", "--shapes", "2,3,9,9,5,3,2", "--repeats", "1", "--json",
                 str(path)]) == 0
    out = capsys.readouterr().out
    for header in ("axonic fwd GFLOP/s", "axonic fwd+bwd GFLOP/s", "2x3x9x9->5 3x3 s2"):
        assert header in out
    torch = core.optional_torch()
    assert ("torch fwd+bwd GFLOP/s" in out) == (torch is not None)
    report = json.loads(path.read_text())
    assert report["benchmark"] == "conv"
    rows = report["results"]
    assert [(r["cout"], r["stride"], r["padding"]) for r in rows] == [(5, 2, 1)]
    assert rows[0]["gflop"] == pytest.approx(2 * 2 * 5 * 5 * 5 * 3 * 9 / 1e9)
    assert all(r["axonic_fwd_gflops"] > 0 and r["axonic_fwdbwd_gflops"] > 0
               and r["max_rel_error"] < 1e-4 for r in rows)
    assert {c["key"] for c in report["columns"]} <= set(rows[0])


def test_bench_conv_checks_against_the_reference_without_torch(quick_models, monkeypatch):
    from axonic.bench import conv

    monkeypatch.setattr(conv, "optional_torch", lambda: None)
    table = conv.conv_table([conv.ConvShape(3, 2, 7, 7, 3, 3, 1, 1)], repeats=1)
    assert table.rows[0]["checked_against"] == "reference"
    assert "torch" not in table.render()


def test_bench_conv_catches_a_wrong_forward(quick_models, monkeypatch):
    from axonic.backends import cpu
    from axonic.bench import conv

    def zeros(x, weight, bias, out, *args):
        out[...] = 0.0

    monkeypatch.setattr(cpu, "conv2d_forward", zeros)
    with pytest.raises(RuntimeError, match="conv2d forward wrong on 2x3x9x9->4 3x3"):
        conv.conv_table([conv.ConvShape(2, 3, 9, 9, 4, 3, 1, 1)], repeats=1)


def test_bench_conv_quick_drops_the_heavy_shape():
    from axonic.bench import conv

    labels = [s.label for s in conv.select_shapes(None, quick=True)]
    assert len(labels) == len(conv.DEFAULT_CONV_SHAPES) - 1
    assert "32x3x224x224->64 7x7 s2" not in labels
    assert conv.DEFAULT_CONV_SHAPES[-1].out_h == 112


@pytest.mark.parametrize("argv", [
    ["bench", "conv", "--shapes", "2,3,9"],
    ["bench", "conv", "--shapes", "2,3,9,9,4,x"],
    ["bench", "conv", "--shapes", "2,3,2,2,4,5,1,0"],
    ["bench", "conv", "--repeats", "0"],
    ["bench", "train-step", "--batch", "-1"],
])
def test_bench_conv_and_train_step_reject_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_bench_train_step_prints_steps_per_second(quick_models, capsys, tmp_path):
    path = tmp_path / "train.json"
    assert main(["bench", "train-step", "--batch", "4", "--repeats", "1",
                 "--json", str(path)]) == 0
    out = capsys.readouterr().out
    for header in ("LeNet train step", "steps/s", "ms/step", "peak MiB", "axonic"):
        assert header in out
    rows = json.loads(path.read_text())["results"]
    assert rows[0]["library"] == "axonic" and rows[0]["steps_per_s"] > 0
    assert len(rows) == (2 if core.optional_torch() is not None else 1)
    if os.access("/proc/self/clear_refs", os.W_OK):
        assert all(r["peak_mib"] > 0 for r in rows)


def test_bench_train_step_without_memory_skips_the_probe(quick_models, capsys):
    from axonic.bench import train_step

    table = train_step.train_step_table(batch=2, repeats=1, memory=False)
    assert all(row["peak_mib"] is None for row in table.rows)
    assert "-" in table.render().splitlines()[-1]
