"""Optimizer-step regression benchmarks: axonic's fused kernels vs torch.optim's CPU
variants (for-loop, foreach, fused where offered) vs a stream copy over the same memory.

The optimizers and their options are those of ``axonic bench optim``
(axonic.bench.optim.OPTIMIZER_CASES), on 10M float32 parameters in 20 tensors, grouped by
optimizer. Each axonic optimizer is first checked against the reference kernels.
``extra_info["gbs"]`` is the effective bandwidth (bytes read + written per step / median
time). Run with ``pytest benchmarks --benchmark-only``; torch rows skip without PyTorch.
Under ``--benchmark-disable`` each runs once, untimed, on 100k parameters.
"""

import numpy as np
import pytest

from axonic.bench import OPTIMIZER_CASES, thread_count
from axonic.bench.optim import (
    TORCH_VARIANTS,
    axonic_step,
    check_against_reference,
    copy_step,
    tensor_sizes,
    torch_steps,
)


@pytest.fixture(params=OPTIMIZER_CASES, ids=lambda case: case.label.replace(" ", "-"))
def case(request):
    return request.param


@pytest.fixture
def problem(request):
    """Parameter values and gradients: 10M elements in 20 tensors (100k untimed)."""
    total = 100_000 if request.config.getoption("benchmark_disable") else 10_000_000
    rng = np.random.default_rng(0)
    sizes = tensor_sizes(total, 20)
    return ([rng.standard_normal(s, dtype=np.float32) for s in sizes],
            [rng.standard_normal(s, dtype=np.float32) for s in sizes])


def _time(benchmark, case, step, moved_bytes: int, torch=None) -> None:
    with thread_count(None, torch=torch):
        benchmark.group = f"optim {case.label}"
        benchmark(step)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["gbs"] = moved_bytes / benchmark.stats.stats.median / 1e9


def test_axonic_optimizer_step(benchmark, case, problem):
    check_against_reference(case)
    values, grads = problem
    step, _ = axonic_step(case, values, grads)
    _time(benchmark, case, step, case.bytes_per_element * sum(v.size for v in values))


@pytest.mark.parametrize("variant", list(TORCH_VARIANTS))
def test_torch_optimizer_step(benchmark, case, problem, variant):
    torch = pytest.importorskip("torch")
    steps = torch_steps(case, torch, *problem)
    if f"torch {variant}" not in steps:
        pytest.skip(f"torch.optim.{case.name} has no {variant} CPU variant")
    _time(benchmark, case, steps[f"torch {variant}"],
          case.bytes_per_element * sum(v.size for v in problem[0]), torch)


def test_stream_copy_over_the_same_memory(benchmark, case, problem):
    footprint = 4 * sum(v.size for v in problem[0]) * (2 + case.state_buffers)
    _time(benchmark, case, copy_step(footprint), 2 * (footprint // 8) * 4)
