"""Batch normalization: axonic._cpu's fused kernels held against the reference, the
autograd op's gradients, and nn.BatchNorm1d / BatchNorm2d's running statistics."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.backends import cpu, reference
from axonic.nn import functional as F
from conftest import assert_close, gradcheck

DTYPES = (np.float32, np.float64)
# N=1 with S>1, C=1, odd sizes, 1x1 images, (N, C) and (N, C, L); (8, 16, 32, 32) is
# large enough for batch_norm.cpp to split channels over threads.
SHAPES = [(1, 3, 5, 7), (4, 1, 3, 3), (7, 33), (2, 1), (5, 3, 1, 1), (2, 5, 33), (3, 7, 17, 19),
          (1, 1, 127), (8, 16, 32, 32)]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


def random(shape, dtype, seed=0, scale=1.0, offset=0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (offset + scale * rng.standard_normal(shape)).astype(dtype)


def channel_arrays(c, dtype, seed=1):
    rng = np.random.default_rng(seed)
    weight = rng.uniform(0.5, 2.0, c).astype(dtype)
    bias = rng.standard_normal(c).astype(dtype)
    running_mean = rng.standard_normal(c).astype(dtype)
    running_var = rng.uniform(0.5, 2.0, c).astype(dtype)
    return weight, bias, running_mean, running_var


def forward_train(backend, x, weight, bias, running_mean, running_var, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    out = np.empty_like(x)
    save_mean = np.empty(c, x.dtype)
    save_invstd = np.empty(c, x.dtype)
    rm = None if running_mean is None else running_mean.copy()
    rv = None if running_var is None else running_var.copy()
    backend.batch_norm_forward_train(x=x, weight=weight, bias=bias, running_mean=rm,
                                     running_var=rv, out=out, save_mean=save_mean,
                                     save_invstd=save_invstd, momentum=momentum, eps=eps)
    return out, save_mean, save_invstd, rm, rv


def backward(backend, grad_out, x, weight, save_mean, save_invstd, with_params=True):
    c = x.shape[1]
    grad_in = np.empty_like(x)
    grad_weight = np.empty(c, x.dtype) if with_params else None
    grad_bias = np.empty(c, x.dtype) if with_params else None
    backend.batch_norm_backward(grad_out=grad_out, x=x, weight=weight, save_mean=save_mean,
                                save_invstd=save_invstd, grad_in=grad_in,
                                grad_weight=grad_weight, grad_bias=grad_bias)
    return grad_in, grad_weight, grad_bias


def numpy_batch_norm(x, weight, bias, eps=1e-5):
    """Training-mode batch norm recomputed in float64; returns out, mean, biased var, M."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes)
    var = x64.var(axis=axes)
    out = (x64 - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.astype(np.float64).reshape(shape) + bias.astype(np.float64).reshape(
            shape)
    return out, mean, var, x.size // x.shape[1]


# --- kernels against the reference --------------------------------------------------------


@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("track", (True, False), ids=("running", "no_running"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_train_matches_reference(shape, dtype, track, affine):
    x = random(shape, dtype, scale=3.0, offset=0.5)
    weight, bias, running_mean, running_var = channel_arrays(shape[1], dtype)
    if not affine:
        weight = bias = None
    if not track:
        running_mean = running_var = None
    got = forward_train(cpu, x, weight, bias, running_mean, running_var, momentum=0.3)
    want = forward_train(reference, x, weight, bias, running_mean, running_var, momentum=0.3)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        else:
            assert_close(g, w)
    expected, mean, var, m = numpy_batch_norm(x, weight, bias)
    assert_close(got[0], expected, **TOL[dtype])
    if track:
        assert_close(got[3], 0.7 * running_mean.astype(np.float64) + 0.3 * mean, **TOL[dtype])
        assert_close(got[4], 0.7 * running_var.astype(np.float64) + 0.3 * var * m / (m - 1),
                     **TOL[dtype])


@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(1, 4), (1, 3, 1, 1), (0, 3, 2, 2)], ids=str)
def test_forward_eval_matches_reference(shape, dtype, affine):
    x = random(shape, dtype, scale=2.0)
    weight, bias, running_mean, running_var = channel_arrays(shape[1], dtype)
    if not affine:
        weight = bias = None
    outs = []
    for backend in (cpu, reference):
        out = np.empty_like(x)
        backend.batch_norm_forward_eval(x=x, weight=weight, bias=bias, running_mean=running_mean,
                                        running_var=running_var, out=out, eps=1e-3)
        outs.append(out)
    assert_close(outs[0], outs[1])
    shape_c = (1, shape[1]) + (1,) * (len(shape) - 2)
    expected = (x.astype(np.float64) - running_mean.reshape(shape_c)) / np.sqrt(
        running_var.astype(np.float64).reshape(shape_c) + 1e-3)
    if affine:
        expected = expected * weight.reshape(shape_c) + bias.reshape(shape_c)
    assert_close(outs[0], expected, **TOL[dtype])


@pytest.mark.parametrize("affine", (True, False), ids=("affine", "no_affine"))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_matches_reference(shape, dtype, affine):
    x = random(shape, dtype, scale=2.0, offset=-1.0)
    weight = channel_arrays(shape[1], dtype)[0] if affine else None
    _, save_mean, save_invstd, _, _ = forward_train(reference, x, weight, None, None, None)
    grad_out = random(shape, dtype, seed=7)
    got = backward(cpu, grad_out, x, weight, save_mean, save_invstd, with_params=affine)
    want = backward(reference, grad_out, x, weight, save_mean, save_invstd, with_params=affine)
    # grad_in sums cancel to ~0 per channel: compare against the gradient's scale
    scale = float(np.abs(want[0]).max()) + 1.0
    assert_close(got[0], want[0], atol=TOL[dtype]["atol"] * scale * 10)
    for g, w in zip(got[1:], want[1:]):
        if w is None:
            assert g is None
        else:
            assert_close(g, w, atol=TOL[dtype]["atol"] * np.sqrt(x.size))


def test_backward_outputs_may_be_skipped():
    x = random((4, 3, 5), np.float64)
    _, mean, invstd, _, _ = forward_train(cpu, x, None, None, None, None)
    g = random(x.shape, np.float64, seed=2)
    grad_bias = np.empty(3)
    cpu.batch_norm_backward(g, x, None, mean, invstd, None, None, grad_bias)
    assert_close(grad_bias, g.sum(axis=(0, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_offset_is_accurate(dtype):
    """Sums in double and two passes: a mean of 1e4 does not swamp a unit variance."""
    x = random((64, 4, 33), dtype, scale=1.0, offset=1e4)
    out, mean, invstd, _, _ = forward_train(cpu, x, None, None, None, None)
    expected, want_mean, var, _ = numpy_batch_norm(x, None, None)
    assert_close(mean, want_mean, **TOL[dtype])
    assert_close(invstd, 1.0 / np.sqrt(var + 1e-5), rtol=1e-4 if dtype == np.float32 else 1e-9)
    assert_close(out, expected, rtol=1e-3, atol=1e-3 if dtype == np.float32 else 1e-9)


def test_nan_stays_in_its_channel():
    x = random((4, 3, 5), np.float32)
    x[1, 1, 2] = np.nan
    out, mean, _, _, _ = forward_train(cpu, x, None, None, None, None)
    assert np.isnan(out[:, 1]).all() and np.isnan(mean[1])
    assert np.isfinite(out[:, [0, 2]]).all()


# --- bad input at the kernel --------------------------------------------------------------


@pytest.mark.parametrize("backend", (cpu, reference), ids=("cpu", "reference"))
@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1), (1, 2, 1), (0, 3)], ids=str)
def test_train_needs_more_than_one_value_per_channel(backend, shape):
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        forward_train(backend, x, None, None, None, None)


def test_kernel_rejects_bad_arrays():
    x = random((4, 3, 5), np.float32)
    c3 = np.ones(3, np.float32)
    out, sm, si = np.empty_like(x), np.empty(3, np.float32), np.empty(3, np.float32)
    with pytest.raises(ValueError, match="ndim >= 2"):
        cpu.batch_norm_forward_eval(np.ones(3, np.float32), None, None, c3, c3,
                                    np.empty(3, np.float32))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        cpu.batch_norm_forward_train(x, np.ones(4, np.float32), None, None, None, out, sm, si)
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\)"):
        cpu.batch_norm_forward_eval(x, None, None, c3, np.ones((3, 1), np.float32), out)
    with pytest.raises(TypeError, match="float64"):
        cpu.batch_norm_forward_train(x, np.ones(3), None, None, None, out, sm, si)
    with pytest.raises(ValueError, match="shape"):
        cpu.batch_norm_forward_train(x, None, None, None, None, np.empty((4, 3, 4), np.float32),
                                     sm, si)
    with pytest.raises(ValueError, match="running_mean must be an array"):
        cpu.batch_norm_forward_eval(x, None, None, None, c3, out)
    with pytest.raises(ValueError, match="must not share memory"):
        cpu.batch_norm_forward_train(x, None, None, None, None, x, sm, si)
    with pytest.raises(ValueError, match="C-contiguous"):
        cpu.batch_norm_forward_eval(np.asfortranarray(random((4, 3), np.float32)), None, None,
                                    c3, c3, np.empty((4, 3), np.float32))
    with pytest.raises(ValueError, match="eps"):
        cpu.batch_norm_forward_eval(x, None, None, c3, c3, out, eps=-1.0)


# --- autograd -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 2, 2, 2), (4, 3), (1, 2, 5), (2, 1, 1, 3)], ids=str)
def test_gradcheck_training(shape):
    x = random(shape, np.float64, seed=3, scale=2.0)
    weight, bias, _, _ = channel_arrays(shape[1], np.float64)
    gradcheck(lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True), x, weight, bias,
              rtol=1e-5, atol=1e-6)
    gradcheck(lambda a: F.batch_norm(a, None, None, training=True), x, rtol=1e-5, atol=1e-6)


def test_gradcheck_eval():
    x = random((3, 2, 2, 2), np.float64, seed=4)
    weight, bias, running_mean, running_var = channel_arrays(2, np.float64)
    rm, rv = axonic.tensor(running_mean), axonic.tensor(running_var)
    gradcheck(lambda a, w, b: F.batch_norm(a, rm, rv, w, b, training=False), x, weight, bias)
    gradcheck(lambda a: F.batch_norm(a, rm, rv), x)


def test_training_backward_through_module_matches_reference_backend():
    from axonic.backends import use_reference_kernels

    x = random((5, 3, 4, 4), np.float32, seed=9)
    grads = []
    for use_reference in (False, True):
        use_reference_kernels(use_reference)
        try:
            layer = nn.BatchNorm2d(3)
            inp = axonic.tensor(x, requires_grad=True)
            (layer(inp) * axonic.tensor(random(x.shape, np.float32, seed=5))).sum().backward()
            grads.append((inp.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy(),
                          layer.running_var.numpy()))
        finally:
            use_reference_kernels(False)
    for g, w in zip(*grads):
        assert_close(g, w, atol=1e-5)


# --- modules ------------------------------------------------------------------------------


@pytest.mark.parametrize("momentum", (0.1, 0.5, None), ids=str)
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm2d, (4, 3, 5, 5)), (nn.BatchNorm1d, (6, 3)),
                                       (nn.BatchNorm1d, (2, 3, 7))], ids=("2d", "1d", "1d_L"))
def test_running_statistics_and_eval(cls, shape, momentum):
    layer = cls(3, momentum=momentum).double()
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(4):
        x = random(shape, np.float64, seed=step, scale=step + 1.0, offset=step)
        out = layer(axonic.tensor(x))
        expected, mean, var, m = numpy_batch_norm(x, None, None)
        assert_close(out, expected)
        factor = 1.0 / (step + 1) if momentum is None else momentum
        running_mean = (1 - factor) * running_mean + factor * mean
        running_var = (1 - factor) * running_var + factor * var * m / (m - 1)
        assert_close(layer.running_mean, running_mean)
        assert_close(layer.running_var, running_var)
        assert int(layer.num_batches_tracked.item()) == step + 1
    layer.eval()
    x = random(shape, np.float64, seed=11)
    shape_c = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - running_mean.reshape(shape_c)) / np.sqrt(running_var.reshape(shape_c) + 1e-5)
    assert_close(layer(axonic.tensor(x)), expected)
    assert_close(layer.running_mean, running_mean)  # eval leaves the statistics alone
    assert int(layer.num_batches_tracked.item()) == 4


def test_without_running_stats_eval_uses_batch_statistics():
    layer = nn.BatchNorm2d(2, affine=False, track_running_stats=False).double()
    assert layer.weight is None and layer.running_mean is None
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []
    x = random((3, 2, 4, 4), np.float64, offset=5.0)
    layer.eval()
    assert_close(layer(axonic.tensor(x)), numpy_batch_norm(x, None, None)[0])


def test_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm2d(3, momentum=0.2).double()
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    weight, bias, _, _ = channel_arrays(3, np.float64)
    ours.weight._data[...] = weight
    ours.bias._data[...] = bias
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(weight))
        theirs.bias.copy_(torch.from_numpy(bias))
    for step in range(3):
        x = random((4, 3, 5, 6), np.float64, seed=step, offset=step)
        g = random(x.shape, np.float64, seed=10 + step)
        inp = axonic.tensor(x, requires_grad=True)
        out = ours(inp)
        (out * axonic.tensor(g)).sum().backward()
        tx = torch.from_numpy(x).requires_grad_(True)
        ty = theirs(tx)
        (ty * torch.from_numpy(g)).sum().backward()
        assert_close(out, ty.detach().numpy())
        assert_close(inp.grad, tx.grad.numpy(), atol=1e-10)
        ours.weight.grad = ours.bias.grad = None
        theirs.zero_grad()
    assert_close(ours.running_mean, theirs.running_mean.numpy())
    assert_close(ours.running_var, theirs.running_var.numpy())
    ours.eval()
    theirs.eval()
    x = random((2, 3, 5, 6), np.float64, seed=20)
    assert_close(ours(axonic.tensor(x)), theirs(torch.from_numpy(x)).detach().numpy())


def test_state_dict_holds_buffers():
    layer = nn.BatchNorm2d(4)
    layer(axonic.tensor(random((3, 4, 2, 2), np.float32)))
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    assert state["num_batches_tracked"] == 1 and state["num_batches_tracked"].dtype == np.int64
    assert state["running_mean"].shape == (4,)
    fresh = nn.BatchNorm2d(4)
    fresh.load_state_dict(state)
    assert_close(fresh.running_var, layer.running_var)
    assert sorted(name for name, _ in layer.named_buffers()) == [
        "num_batches_tracked", "running_mean", "running_var"]
    assert "BatchNorm2d(4, eps=1e-05, momentum=0.1" in repr(layer)


def test_module_bad_input():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D"):
        nn.BatchNorm2d(3)(axonic.tensor(np.zeros((2, 3, 4), np.float32)))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(axonic.tensor(np.zeros((2, 3, 4, 4), np.float32)))
    with pytest.raises(ValueError, match="expected input with 3 channels"):
        nn.BatchNorm2d(3)(axonic.tensor(np.zeros((2, 4, 4, 4), np.float32)))
    with pytest.raises(TypeError, match="float64"):
        nn.BatchNorm1d(3)(axonic.tensor(np.zeros((2, 3), np.float64)))
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        layer(axonic.tensor(np.zeros((1, 3), np.float32)))
    assert int(layer.num_batches_tracked.item()) == 0  # the rejected batch is not counted
    layer.eval()
    assert layer(axonic.tensor(np.zeros((1, 3), np.float32))).shape == (1, 3)  # fine in eval
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.batch_norm(axonic.tensor(np.zeros((2, 3), np.float32)), None, None)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.batch_norm(axonic.tensor(np.zeros((2, 3), np.float32)), None, None,
                     axonic.tensor(np.ones(2, np.float32)), training=True)


def test_functional_takes_non_contiguous_input_and_partial_grads():
    base = random((3, 4, 5), np.float64, seed=6)
    x = axonic.tensor(base).transpose(1, 2)  # (3, 5, 4), not C-contiguous
    assert not x.numpy().flags.c_contiguous
    weight = axonic.tensor(np.linspace(0.5, 1.5, 5), requires_grad=True)
    bias = axonic.tensor(np.zeros(5))
    out = F.batch_norm(x, None, None, weight, bias, training=True)
    transposed = np.ascontiguousarray(base.transpose(0, 2, 1))
    expected, _, _, _ = numpy_batch_norm(transposed, weight.numpy(), bias.numpy())
    assert_close(out, expected)
    g = random(out.shape, np.float64, seed=8)
    (out * axonic.tensor(g)).sum().backward()
    xhat = numpy_batch_norm(transposed, None, None)[0]
    assert_close(weight.grad, (g * xhat).sum(axis=(0, 2)))
    assert bias.grad is None
