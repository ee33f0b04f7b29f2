"""Inverted dropout: axonic._cpu's kernels against the NumPy reference, bit for bit.

Both backends draw the mask from the same counter-based SplitMix64 hash of
(seed, offset + element index), so masks (and, computed in float64 and rounded once,
outputs) must match exactly, on every thread count.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import axonic
import axonic.nn as nn
import axonic.nn.functional as F
from axonic.backends import cpu, reference
from axonic.backends.reference_dropout import dropout_uniform
from conftest import AWKWARD_SIZES, gradcheck

DTYPES = (np.float32, np.float64)
BACKENDS = (cpu, reference)
# dropout.cpp splits arrays of 32768 elements or more over OpenMP threads.
ABOVE_PARALLEL_THRESHOLD = 40_000


def forward(backend, x, p, seed, offset=0):
    out = np.empty_like(x)
    mask = np.empty(x.shape, np.uint8)
    backend.dropout_forward(x, out, mask, p, seed, offset)
    return out, mask


def backward(backend, grad_out, mask, p):
    grad_in = np.empty_like(grad_out)
    backend.dropout_backward(grad_out, mask, grad_in, p)
    return grad_in


@pytest.fixture
def threads():
    original = axonic.get_num_threads()
    yield axonic.set_num_threads
    axonic.set_num_threads(original)


def test_generator_is_splitmix64():
    # The first outputs of a sequential SplitMix64 seeded with 0 (the published values).
    expected = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert np.array_equal(dropout_uniform(0, 0, 3), [(z >> 11) * 2.0**-53 for z in expected])
    # offset shifts the counter: element i of offset k is element k + i of offset 0
    assert np.array_equal(dropout_uniform(9, 5, 10), dropout_uniform(9, 0, 15)[5:])


@pytest.mark.parametrize("num_threads", (1, 2))
@pytest.mark.parametrize("size", (*AWKWARD_SIZES, ABOVE_PARALLEL_THRESHOLD))
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_reference_exactly(threads, num_threads, dtype, size):
    threads(num_threads)
    rng = np.random.default_rng(size)
    x = (3 * rng.standard_normal(size)).astype(dtype)
    for p in (0.1, 0.5, 0.9):
        seed, offset = int(rng.integers(0, 2**63)), int(rng.integers(0, 1000))
        out, mask = forward(cpu, x, p, seed, offset)
        ref_out, ref_mask = forward(reference, x, p, seed, offset)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
        assert np.array_equal(mask, ref_mask)
        assert np.array_equal(out, ref_out)
        grad_out = rng.standard_normal(size).astype(dtype)
        assert np.array_equal(backward(cpu, grad_out, mask, p),
                              backward(reference, grad_out, mask, p))


def test_mask_does_not_depend_on_thread_count(threads):
    x = np.ones((5, 100_003), np.float32)
    masks = []
    for n in (1, 2, 3):
        threads(n)
        masks.append(forward(cpu, x, 0.4, 2024)[1])
    assert all(np.array_equal(m, masks[0]) for m in masks)


def test_multidimensional_and_large_seed():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    seed = 2**64 - 1  # wraps mod 2^64 in both backends
    out, mask = forward(cpu, x, 0.3, seed, 2**64 - 10)
    ref_out, ref_mask = forward(reference, x, 0.3, seed, 2**64 - 10)
    assert np.array_equal(mask, ref_mask) and np.array_equal(out, ref_out)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("p", (0.1, 0.5, 0.8))
def test_kept_fraction_and_scaling(backend, p):
    n = 1_000_000
    x = np.full(n, 2.0, np.float32)
    out, mask = forward(backend, x, p, seed=7)
    kept = mask.mean()
    # binomial standard deviation sqrt(p(1-p)/n) <= 5e-4; 6 sigma
    assert abs(kept - (1 - p)) < 6 * math.sqrt(p * (1 - p) / n)
    assert np.array_equal(out[mask == 1], np.full(int(mask.sum()), np.float32(2.0 / (1 - p))))
    assert np.all(out[mask == 0] == 0)
    # the expected output equals the input
    assert abs(out.mean() - 2.0) < 0.02


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("dtype", DTYPES)
def test_p_zero_is_identity_and_p_one_zeros(backend, dtype):
    x = np.array([1.5, -2.0, np.inf, np.nan, 0.0, 1e30], dtype)
    out, mask = forward(backend, x, 0.0, 3)
    assert np.all(mask == 1)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(backward(backend, x, mask, 0.0), x)
    out, mask = forward(backend, x, 1.0, 3)
    assert np.all(mask == 0)
    assert np.all(out == 0) and not np.any(np.isnan(out))
    assert np.all(backward(backend, x, mask, 1.0) == 0)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_empty_array(backend):
    out, mask = forward(backend, np.empty((0, 3), np.float32), 0.5, 1)
    assert out.shape == mask.shape == (0, 3)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("p", (-0.1, 1.5, float("nan"), float("inf")))
def test_bad_probability_raises(backend, p):
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="between 0 and 1"):
        forward(backend, x, p, 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        backward(backend, x, np.ones(4, np.uint8), p)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
def test_bad_arrays_raise(backend):
    x = np.ones((3, 4), np.float32)
    out = np.empty_like(x)
    mask = np.empty(x.shape, np.uint8)
    with pytest.raises(TypeError):  # integer input
        backend.dropout_forward(np.ones((3, 4), np.int32), out, mask, 0.5, 0)
    with pytest.raises(TypeError):  # out of another dtype
        backend.dropout_forward(x, np.empty((3, 4), np.float64), mask, 0.5, 0)
    with pytest.raises(TypeError, match="uint8"):  # float mask
        backend.dropout_forward(x, out, np.empty((3, 4), np.float32), 0.5, 0)
    with pytest.raises(TypeError, match="uint8"):  # bool mask
        backend.dropout_forward(x, out, np.empty((3, 4), bool), 0.5, 0)
    with pytest.raises(TypeError):  # not an array
        backend.dropout_forward(x, out, [0] * 12, 0.5, 0)
    with pytest.raises(ValueError, match="shape"):
        backend.dropout_forward(x, np.empty((4, 3), np.float32), mask, 0.5, 0)
    with pytest.raises(ValueError, match="shape"):
        backend.dropout_forward(x, out, np.empty((12,), np.uint8), 0.5, 0)
    with pytest.raises(ValueError, match="shape"):
        backend.dropout_backward(x, np.empty((3, 5), np.uint8), out, 0.5)
    with pytest.raises(TypeError):
        backend.dropout_backward(x, mask, np.empty((3, 4), np.float64), 0.5)
    with pytest.raises((TypeError, ValueError)):  # negative seed
        backend.dropout_forward(x, out, mask, 0.5, -1)


def test_cpu_refuses_bad_layouts():
    x = np.ones((4, 6), np.float32)
    mask = np.empty(x.shape, np.uint8)
    with pytest.raises(ValueError, match="contiguous"):
        cpu.dropout_forward(x[:, ::2], np.empty((4, 3), np.float32), np.empty((4, 3), np.uint8),
                            0.5, 0)
    with pytest.raises(ValueError, match="contiguous"):
        cpu.dropout_forward(x, np.empty_like(x), np.empty((6, 4), np.uint8).T, 0.5, 0)
    with pytest.raises(ValueError, match="share memory"):
        cpu.dropout_forward(x, x, mask, 0.5, 0)
    readonly = np.empty(x.shape, np.uint8)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        cpu.dropout_forward(x, np.empty_like(x), readonly, 0.5, 0)
    grad = np.ones_like(x)
    with pytest.raises(ValueError, match="share memory"):
        cpu.dropout_backward(grad, mask, grad, 0.5)


# ----- autograd, functional and modules ----------------------------------------------------


def test_functional_eval_is_identity_and_training_scales():
    x = axonic.tensor(np.arange(1, 13, dtype=np.float32).reshape(3, 4))
    assert F.dropout(x, 0.5, training=False) is x
    y = F.dropout(x, 0.25).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.75, rtol=1e-6)


def test_module_train_and_eval():
    layer = nn.Dropout(0.5)
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"
    x = axonic.tensor(np.ones((64, 64), np.float32))
    y = layer(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    layer.eval()
    assert np.array_equal(layer(x).numpy(), x.numpy())
    assert list(layer.parameters()) == []


def test_fresh_mask_each_call_and_manual_seed_repeats():
    layer = nn.Dropout(0.5)
    x = axonic.tensor(np.ones(1000, np.float32))
    axonic.manual_seed(123)
    first, second = layer(x).numpy(), layer(x).numpy()
    assert not np.array_equal(first, second)
    axonic.manual_seed(123)
    assert np.array_equal(layer(x).numpy(), first)
    assert np.array_equal(F.dropout(x, 0.5).numpy(), second)


def test_backends_agree_through_the_module():
    x = axonic.tensor(np.random.default_rng(0).standard_normal((7, 33)))
    axonic.manual_seed(5)
    native = F.dropout(x, 0.3).numpy()
    axonic.backends.use_reference_kernels(True)
    try:
        axonic.manual_seed(5)
        ref = F.dropout(x, 0.3).numpy()
    finally:
        axonic.backends.use_reference_kernels(False)
    assert np.array_equal(native, ref)


def test_gradient_is_mask_over_keep_probability():
    x = axonic.tensor(np.random.default_rng(1).standard_normal((5, 9)), requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.6, 0.0))


@pytest.mark.parametrize("p", (0.0, 0.3, 0.7))
def test_gradcheck(p):
    from axonic.autograd.ops_dropout import Dropout

    x = np.random.default_rng(2).standard_normal((4, 7))
    gradcheck(lambda t: Dropout.apply(t, p, 99), x)  # fixed seed: one mask throughout


def test_bad_arguments_raise():
    x = axonic.tensor(np.ones(3, np.float32))
    for p in (-0.5, 1.01, float("nan")):
        with pytest.raises(ValueError):
            F.dropout(x, p)
        with pytest.raises(ValueError):
            nn.Dropout(p)
    with pytest.raises(TypeError):
        F.dropout(np.ones(3), 0.5)
    with pytest.raises(TypeError):
        F.dropout(axonic.tensor(np.ones(3, np.int64)), 0.5)
    with pytest.raises(TypeError):
        nn.Dropout("half")
    # p = 1 in training zeroes everything without dividing by zero
    assert np.all(F.dropout(x, 1.0).numpy() == 0)


@pytest.mark.parametrize(
    ("shape", "start", "end", "expected"),
    [
        ((2, 3, 4, 5), 1, -1, (2, 60)),
        ((2, 3, 4, 5), 0, -1, (120,)),
        ((2, 3, 4, 5), 1, 2, (2, 12, 5)),
        ((2, 3, 4, 5), -2, -1, (2, 3, 20)),
        ((2, 3, 4, 5), 2, 2, (2, 3, 4, 5)),
        ((2, 0, 4), 1, -1, (2, 0)),
        ((7,), 0, -1, (7,)),
    ],
)
def test_flatten_shapes(shape, start, end, expected):
    x = axonic.tensor(np.arange(math.prod(shape), dtype=np.float32).reshape(shape))
    y = nn.Flatten(start, end)(x)
    assert y.shape == expected
    assert np.array_equal(y.numpy().ravel(), x.numpy().ravel())


def test_flatten_default_and_errors():
    layer = nn.Flatten()
    assert repr(layer) == "Flatten(start_dim=1, end_dim=-1)"
    assert layer(axonic.tensor(np.ones((8, 3, 2, 2)))).shape == (8, 12)
    with pytest.raises(IndexError):
        layer(axonic.tensor(np.ones(5)))  # start_dim=1 on a 1-d tensor
    with pytest.raises(IndexError):
        nn.Flatten(0, 4)(axonic.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError):
        nn.Flatten(2, 1)(axonic.tensor(np.ones((2, 3, 4))))
    assert nn.Flatten(0)(axonic.tensor(np.float64(3.0))).shape == (1,)


def test_flatten_gradient():
    gradcheck(lambda t: nn.Flatten(1, 2)(t) * 1.0, np.random.default_rng(3).standard_normal(
        (2, 3, 4, 2)))
    x = axonic.tensor(np.ones((2, 3, 4)), requires_grad=True)
    (nn.Flatten()(x) * axonic.tensor(np.arange(12.0))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(np.arange(12.0).reshape(3, 4),
                                                         (2, 1, 1)))
