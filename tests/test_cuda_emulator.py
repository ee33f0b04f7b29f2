"""The CUDA emulator itself (tests/cuda_emulator): its barriers, warp operations, atomics,
shared memory and launch checks on the kernels of selftest.cu, the failures it must
report, the HostDeviceArray of the ``cuda_kernels`` fixture, and the validation of the
emulated axonic._cuda bindings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cuda_emulator import build as emulator_build
from cuda_emulator import fixture as cuda_fixture

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def selftest():
    """The selftest kernels, built like the emulated axonic._cuda."""
    try:
        return emulator_build.build_selftest_module(REPO_ROOT)
    except emulator_build.EmulatorUnavailable as error:
        pytest.skip(f"CUDA emulator unavailable: {error}")
    except emulator_build.EmulatorBuildError as error:
        pytest.fail(f"building the emulator's selftest failed:\n{error}", pytrace=False)


@pytest.fixture(scope="module")
def emulated():
    """The emulated cuda_kernels variant only (these tests are about the emulator)."""
    try:
        return cuda_fixture.emulated_kernels(REPO_ROOT)
    except emulator_build.EmulatorUnavailable as error:
        pytest.skip(f"CUDA emulator unavailable: {error}")
    except emulator_build.EmulatorBuildError as error:
        pytest.fail(f"building the emulated CUDA module failed:\n{error}", pytrace=False)


# --- barriers, shared memory ---

@pytest.mark.parametrize("n", [1, 255, 256, 257, 1000])
def test_block_reduction_with_syncthreads(selftest, n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    sums = selftest.block_sums(x)
    padded = np.zeros(len(sums) * 256, np.float32)
    padded[:n] = x
    np.testing.assert_allclose(sums, padded.reshape(-1, 256).sum(axis=1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads, live", [(64, 64), (64, 40), (256, 7), (96, 33), (32, 1)])
def test_returned_threads_leave_barriers_and_warps(selftest, threads, live):
    x = np.random.default_rng(0).standard_normal(3 * threads).astype(np.float32)
    sums = selftest.early_return(x, threads, live)
    expected = x.reshape(3, threads)[:, :live].sum(axis=1)
    np.testing.assert_allclose(sums, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", [32, 100, 1024])
def test_dynamic_shared_memory(selftest, threads):
    x = np.arange(4 * threads, dtype=np.float64)
    out = selftest.reverse_blocks(x, threads, threads * 8)
    np.testing.assert_array_equal(out, x.reshape(4, threads)[:, ::-1].ravel())


def test_dynamic_shared_memory_starts_as_nan(selftest):
    assert np.isnan(selftest.read_unwritten_shared(64)).all()


def test_dynamic_shared_memory_above_48k_needs_the_attribute(selftest):
    x = np.arange(64, dtype=np.float64)
    with pytest.raises(RuntimeError, match="cudaErrorInvalidValue"):
        selftest.reverse_blocks(x, 64, 64 * 1024)
    out = selftest.reverse_blocks(x, 64, 64 * 1024, raise_limit_to=64 * 1024)
    np.testing.assert_array_equal(out, x[::-1])
    with pytest.raises(RuntimeError, match="cudaErrorInvalidValue"):
        selftest.reverse_blocks(x, 64, 64, raise_limit_to=228 * 1024)  # above the opt-in max
    # A failed runtime call also sets the thread's last error, as in CUDA's runtime;
    # AXONIC_CUDA_CHECK clears it as it throws, so the next launch check starts clean.
    assert selftest.take_last_error() == "cudaSuccess"


@pytest.mark.parametrize("grid, block", [((1, 1, 1), (1, 1, 1)), ((3, 2, 2), (5, 4, 3)),
                                         ((2, 1, 1), (1024, 1, 1)), ((1, 3, 1), (2, 2, 64))])
def test_builtin_coordinates_and_private_parameters(selftest, grid, block):
    out = selftest.coordinates(grid, block)
    threads = int(np.prod(block))
    linear = np.arange(out.size)
    np.testing.assert_array_equal(out >> 16, linear // threads)
    np.testing.assert_array_equal(out & 0xFFFF, linear % threads)


# --- warp operations ---

@pytest.mark.parametrize("dtype", ["f32", "f64", "i32", "u32", "i64"])
@pytest.mark.parametrize("width", [32, 16, 4, 1])
def test_warp_shuffle_reductions(selftest, dtype, width):
    rng = np.random.default_rng(width)
    numpy_type = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "u32": np.uint32,
                  "i64": np.int64}[dtype]
    if dtype.startswith("f"):
        x = rng.standard_normal(128).astype(numpy_type)
    else:
        x = rng.integers(0, 1 << 20, 128).astype(numpy_type)
    sums, maxima = getattr(selftest, f"warp_reduce_{dtype}")(x, width)
    segments = x.reshape(-1, width)
    if dtype.startswith("f"):  # a tree order of additions: float32 rounding differs
        np.testing.assert_allclose(sums, segments.sum(axis=1, dtype=np.float64), rtol=1e-5,
                                   atol=1e-5)
    else:
        np.testing.assert_array_equal(sums, segments.sum(axis=1, dtype=numpy_type))
    np.testing.assert_array_equal(maxima, np.repeat(segments.max(axis=1), width))


def test_shfl_idx_and_up(selftest):
    x = np.arange(64, dtype=np.int32) * 10
    broadcast, rotate, up = selftest.shuffles(x)
    warps = x.reshape(2, 32)
    np.testing.assert_array_equal(broadcast, np.repeat(warps[:, 3], 32))
    np.testing.assert_array_equal(rotate, np.roll(warps, -1, axis=1).ravel())
    shifted = np.concatenate([warps[:, :2], warps[:, :-2]], axis=1)  # lanes 0, 1 keep theirs
    np.testing.assert_array_equal(up, shifted.ravel())


@pytest.mark.parametrize("threads", [32, 64, 160])
def test_votes_and_counting_barriers(selftest, threads):
    predicate = (np.random.default_rng(threads).random(2 * threads) < 0.3).astype(np.int32)
    predicate[:32] = 1  # one all-true warp
    predicate[32:64] = 0  # one all-false warp
    ballot, any_, all_, count, some, every = selftest.votes(predicate, threads)
    warps = predicate.reshape(-1, 32)
    expected_ballot = (warps.astype(np.uint64) << np.arange(32, dtype=np.uint64)).sum(axis=1)
    np.testing.assert_array_equal(ballot, expected_ballot.astype(np.uint32))
    np.testing.assert_array_equal(any_, warps.any(axis=1))
    np.testing.assert_array_equal(all_, warps.all(axis=1))
    blocks = predicate.reshape(-1, threads)
    np.testing.assert_array_equal(count, blocks.sum(axis=1))
    np.testing.assert_array_equal(some, blocks.any(axis=1))
    np.testing.assert_array_equal(every, blocks.all(axis=1))


# --- atomics ---

def test_atomic_histogram(selftest):
    values = np.random.default_rng(1).integers(0, 1000, 5000).astype(np.int32)
    counts, maximum, total = selftest.histogram(values, 17)
    np.testing.assert_array_equal(counts, np.bincount(values % 17, minlength=17))
    assert maximum == values.max()
    assert total == 5000.0


@pytest.mark.parametrize("threads", [2, 64, 256])
def test_failed_atomic_cas_lets_other_threads_run(selftest, threads):
    np.testing.assert_array_equal(selftest.reverse_turns(threads), np.arange(threads)[::-1])


# --- what the emulator must report ---

@pytest.mark.parametrize("block", [(1025, 1, 1), (0, 1, 1), (1, 1, 65), (32, 32, 2)])
def test_bad_launch_configuration_raises_through_axonic_launch(selftest, block):
    with pytest.raises(RuntimeError, match="cudaErrorInvalidConfiguration.*empty_kernel"):
        selftest.bad_launch(block)
    assert selftest.take_last_error() == "cudaSuccess"  # AXONIC_LAUNCH took it


@pytest.mark.parametrize("which, message", [
    ("divergent_sync", r"divergent barrier: .*__syncthreads at .*selftest\.cu:\d+.*"
                       r"__syncthreads at .*selftest\.cu:\d+"),
    ("deadlock", r"(?s)deadlock: .*__syncwarp\(mask 0xffffffff\).*\n.*__syncthreads at"),
    ("shuffle_exited_lane", r"lane 8 of warp 0 reads lane 16 .*has returned"),
    ("trap", r"the kernel called __trap\(\)"),
    ("spin_forever", r"spin on atomicCAS and no thread of the block makes progress"),
])
def test_kernel_bugs_raise(selftest, which, message):
    with pytest.raises(RuntimeError, match=message):
        selftest.run_failing(which)
    # The emulator is usable again afterwards.
    np.testing.assert_allclose(selftest.block_sums(np.ones(300, np.float32)), [256.0, 44.0])


def test_exception_thrown_in_a_kernel_reaches_python(selftest):
    with pytest.raises(ValueError, match="thrown by a kernel"):
        selftest.run_failing("throw")


def test_fiber_switch_is_cheap(selftest):
    # One switch per thread per __syncthreads; well under a microsecond (about 40 ns on an
    # idle x86-64 core). The bound is loose: machines running the tests may be busy.
    cost = min(selftest.barrier_cost_ns(8, 256, 50) for _ in range(3))
    assert cost < 1000.0, f"{cost:.0f} ns per fiber switch"


def _racy_sum(order: str) -> float:
    code = ("import sys; sys.path.insert(0, 'tests'); "
            "from cuda_emulator.build import build_selftest_module as b; "
            "print(b('.').racy_sum())")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "AXONIC_EMULATOR_REVERSE": order})
    assert result.returncode == 0, result.stderr
    return float(result.stdout)


def test_reverse_order_exposes_a_missing_syncthreads(selftest):
    assert _racy_sum("0") == 64.0  # the default order hides the race
    assert _racy_sum("1") != 64.0


@pytest.mark.skipif(not emulator_build.asan_enabled(),
                    reason="needs AXONIC_EMULATOR_ASAN=1 (see tests/cuda_emulator/README.md)")
def test_address_sanitizer_reports_out_of_bounds_reads(selftest):
    code = ("import sys, numpy as np; sys.path.insert(0, 'tests'); "
            "from cuda_emulator.build import build_selftest_module as b; "
            "b('.').out_of_bounds_read(np.ones(64, np.float32))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300, env=os.environ.copy())
    assert result.returncode != 0
    assert "heap-buffer-overflow" in result.stderr and "selftest.cu" in result.stderr


# --- the fixture's HostDeviceArray ---

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 5), (2, 0, 4)])
def test_host_device_array_round_trip(dtype, shape):
    x = (np.arange(int(np.prod(shape))) % 200).astype(dtype).reshape(shape)
    device = cuda_fixture.emulated_to_device(x)
    interface = device.__cuda_array_interface__
    assert interface["version"] == 3
    assert interface["shape"] == shape and interface["typestr"] == np.dtype(dtype).str
    assert interface["strides"] is None and interface["data"][1] is False
    assert x.size == 0 or interface["data"][0] % 256 == 0  # aligned like cudaMalloc
    assert device.shape == shape and device.dtype == dtype and device.size == x.size
    back = cuda_fixture.emulated_to_host(device)
    np.testing.assert_array_equal(back, x)
    back[...] = 0  # a copy: the device array is unchanged
    np.testing.assert_array_equal(cuda_fixture.emulated_to_host(device), x)


def test_to_device_copies_views_contiguous_unless_asked():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert cuda_fixture.emulated_to_device(x.T).__cuda_array_interface__["strides"] is None
    for view in (x.T, x[:, ::-2], x[1:, 1:3], np.broadcast_to(x[:1], (5, 4))):
        device = cuda_fixture.emulated_to_device(view, keep_layout=True)
        interface = device.__cuda_array_interface__
        assert interface["strides"] == view.strides
        assert interface["data"][1] is (not view.flags.writeable)
        np.testing.assert_array_equal(cuda_fixture.emulated_to_host(device), view)


def test_empty_is_garbage_and_not_convertible_implicitly():
    out = cuda_fixture.emulated_empty((4, 3), np.float32)
    assert out.shape == (4, 3) and np.isnan(cuda_fixture.emulated_to_host(out)).all()
    assert (cuda_fixture.emulated_to_host(cuda_fixture.emulated_empty(5, np.int64)) == -1).all()
    with pytest.raises(TypeError, match="to_host"):
        np.asarray(out)
    with pytest.raises(TypeError):
        out[0]  # noqa: B018 (no indexing, as on a device array seen from the host)


# --- the emulated axonic._cuda ---

def test_emulated_module_reports_one_device(emulated):
    assert emulated.backend.device_report() == (1, "")
    assert "emulator" in emulated.backend.device_name(0)
    assert emulated.backend.runtime_version() >= 12000


def _first_kernel(emulated, *names):
    for name in names:
        if hasattr(emulated.module, name):
            return name
    pytest.skip(f"no emulated kernel binding among {names} yet")


def test_binding_refuses_host_arrays(emulated):
    name = _first_kernel(emulated, "activation_forward")
    x = emulated.to_device(np.linspace(-1, 1, 10, dtype=np.float32))
    out = emulated.empty((10,), np.float32)
    kernel = getattr(emulated.backend, name)
    with pytest.raises(TypeError, match="CUDA array"):
        kernel("relu", np.zeros(10, np.float32), out)
    with pytest.raises(TypeError, match="dtype|float32"):
        kernel("relu", x, emulated.empty((10,), np.float64))
    with pytest.raises(ValueError, match="shape"):
        kernel("relu", x, emulated.empty((11,), np.float32))
    kernel("relu", x, out)
    np.testing.assert_allclose(emulated.to_host(out), np.maximum(emulated.to_host(x), 0))


def test_binding_refuses_strided_and_readonly_outputs(emulated):
    name = _first_kernel(emulated, "activation_forward")
    kernel = getattr(emulated.backend, name)
    x = emulated.to_device(np.ones((4, 6), np.float32))
    strided = emulated.to_device(np.ones((6, 4), np.float32).T, keep_layout=True)
    with pytest.raises(ValueError, match="C-contiguous"):
        kernel("relu", strided, emulated.empty((4, 6), np.float32))
    readonly = emulated.to_device(np.broadcast_to(np.float32(1), (4, 6)), keep_layout=True)
    with pytest.raises(ValueError, match="writable"):
        kernel("relu", x, readonly)


def test_backend_passes_the_stream(emulated):
    name = _first_kernel(emulated, "activation_forward")
    assert "stream" in getattr(emulated.module, name).__doc__
    assert emulated.backend.device_report is emulated.module.device_report  # no stream
