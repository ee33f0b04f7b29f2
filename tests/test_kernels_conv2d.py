"""2-D convolution: axonic._cpu against the NumPy reference and PyTorch, the autograd
Function through nn.functional and nn.Conv2d (float64 gradient checks), and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import _cpu, nn
from axonic.backends import cpu, reference
from axonic.backends.reference_conv2d import check_conv2d
from axonic.nn import functional as F
from conftest import assert_close, gradcheck

DTYPES = (np.float32, np.float64)
BACKENDS = (cpu, reference)

# (x shape, weight shape, stride, padding, dilation, groups)
CASES = [
    ((1, 1, 1, 1), (1, 1, 1, 1), (1, 1), (0, 0), (1, 1), 1),        # 1x1 image, 1x1 kernel
    ((2, 3, 7, 9), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1),        # odd sizes
    ((1, 2, 8, 8), (3, 2, 2, 2), (3, 3), (0, 0), (1, 1), 1),        # stride > kernel
    ((2, 3, 5, 6), (2, 3, 4, 4), (2, 2), (2, 2), (1, 1), 1),        # padding = kernel / 2
    ((1, 2, 6, 6), (2, 2, 3, 3), (1, 1), (4, 3), (1, 1), 1),        # padding > kernel
    ((2, 2, 11, 13), (4, 2, 3, 2), (2, 1), (1, 1), (2, 2), 1),      # dilation 2
    ((2, 3, 9, 8), (2, 3, 2, 3), (1, 2), (0, 1), (2, 1), 1),        # mixed dilation
    ((2, 4, 7, 6), (4, 1, 3, 3), (1, 1), (1, 1), (1, 1), 4),        # depthwise
    ((2, 4, 7, 6), (8, 1, 3, 3), (2, 1), (1, 1), (1, 1), 4),        # depthwise, multiplier 2
    ((2, 4, 7, 6), (6, 2, 3, 3), (1, 1), (1, 0), (1, 1), 2),        # groups = 2
    ((1, 3, 6, 5), (5, 3, 1, 1), (1, 1), (0, 0), (1, 1), 1),        # pointwise shortcut
    ((2, 4, 6, 5), (6, 2, 1, 1), (1, 1), (0, 0), (1, 1), 2),        # pointwise, groups
    ((1, 3, 6, 5), (5, 3, 1, 1), (2, 1), (0, 0), (1, 1), 1),        # 1x1 kernel, stride 2
    ((1, 3, 6, 5), (5, 3, 1, 1), (1, 1), (1, 0), (1, 1), 1),        # 1x1 kernel, padded
    ((1, 2, 1, 1), (3, 2, 3, 3), (1, 1), (1, 1), (1, 1), 1),        # 1x1 image, padded
    ((3, 2, 9, 4), (3, 2, 2, 5), (1, 3), (0, 2), (1, 1), 1),        # non-square everything
    ((2, 3, 5, 5), (2, 3, 5, 5), (1, 1), (0, 0), (1, 1), 1),        # kernel == input
    ((2, 1, 33, 31), (3, 1, 3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((2, 16, 17, 15), (8, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),    # parallel im2col
]
CASE_IDS = [f"{x}-w{w}-s{s}-p{p}-d{d}-g{g}" for x, w, s, p, d, g in CASES]

# Tiles: several batch tiles of whole images, and one image cut into bands of rows.
TILE_CASES = [
    ((20, 16, 32, 32), (8, 16, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((1, 64, 48, 48), (4, 64, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((9, 8, 40, 40), (8, 2, 3, 3), (1, 1), (2, 2), (2, 2), 4),
]


# The implicit-GEMM kernels' edges, each big enough to be shared between threads:
# two forward K blocks, a 1-row tail of output channels and a one-vector tail of
# pixels; stride 2 with an 8-row channel tail; groups with dilation; several
# backward-input column chunks (K = 432).
IMPLICIT_CASES = [
    ((5, 40, 9, 11), (13, 40, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((6, 8, 24, 24), (20, 8, 3, 3), (2, 2), (1, 1), (1, 1), 1),
    ((12, 6, 16, 13), (18, 3, 3, 3), (1, 1), (2, 2), (2, 2), 2),
    ((4, 48, 10, 10), (14, 48, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    # stride-1 "same" geometry, where every tap is a shifted, masked run of the input:
    # one-column and one-row images, a kernel larger than the image, a non-square
    # kernel, dilation 3 (shifts of several rows)
    ((3, 5, 7, 1), (6, 5, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((3, 5, 1, 20), (6, 5, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((2, 4, 3, 3), (5, 4, 5, 5), (1, 1), (2, 2), (1, 1), 1),
    ((2, 3, 6, 17), (7, 3, 3, 5), (1, 1), (1, 2), (1, 1), 1),
    ((3, 6, 5, 9), (4, 6, 3, 3), (1, 1), (3, 3), (3, 3), 1),
]


def params(case):
    return case[2:]


def tolerance(dtype, weight_shape):
    """float32 sums of K products: absolute error grows with K."""
    if dtype == np.float64:
        return {}
    k = int(np.prod(weight_shape[1:]))
    return {"rtol": 1e-4, "atol": 1e-5 * max(1.0, np.sqrt(k))}


def arrays(case, dtype, seed=0):
    x_shape, w_shape = case[:2]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    out_h, out_w = check_conv2d("test", x_shape, w_shape, *params(case))
    g = rng.standard_normal((x_shape[0], w_shape[0], out_h, out_w)).astype(dtype)
    return x, w, b, g


def forward(backend, x, w, b, case):
    out_h, out_w = check_conv2d("test", x.shape, w.shape, *params(case))
    out = np.full((x.shape[0], w.shape[0], out_h, out_w), np.nan, x.dtype)
    backend.conv2d_forward(x, w, b, out, *params(case))
    return out


def backward_input(backend, g, w, x_shape, case):
    grad_in = np.full(x_shape, np.nan, g.dtype)  # the kernel must overwrite it
    backend.conv2d_backward_input(g, w, grad_in, *params(case))
    return grad_in


def backward_weight(backend, g, x, w_shape, case):
    grad_w = np.full(w_shape, np.nan, g.dtype)
    backend.conv2d_backward_weight(g, x, grad_w, *params(case))
    return grad_w


def backward_bias(backend, g):
    grad_b = np.full(g.shape[1], np.nan, g.dtype)
    backend.conv2d_backward_bias(g, grad_b)
    return grad_b


def backward_all(backend, g, x, w, wanted, case):
    """conv2d_backward with the gradients named in `wanted`, the others None."""
    grads = {"in": np.full(x.shape, np.nan, g.dtype), "weight": np.full(w.shape, np.nan, g.dtype),
             "bias": np.full(g.shape[1], np.nan, g.dtype)}
    grads = {name: (a if name in wanted else None) for name, a in grads.items()}
    backend.conv2d_backward(g, x, w, grads["in"], grads["weight"], grads["bias"], *params(case))
    return grads


def check_all_kernels(case, dtype):
    x, w, b, g = arrays(case, dtype)
    tol = tolerance(dtype, w.shape)
    for bias in (b, None):
        assert_close(forward(cpu, x, w, bias, case), forward(reference, x, w, bias, case),
                     **tol)
    expected = {"in": backward_input(reference, g, w, x.shape, case),
                "weight": backward_weight(reference, g, x, w.shape, case),
                "bias": backward_bias(reference, g)}
    tol_w = tolerance(dtype, (1, g.shape[0] * g.shape[2] * g.shape[3]))
    tols = {"in": tol, "weight": tol_w, "bias": tol_w}
    assert_close(backward_input(cpu, g, w, x.shape, case), expected["in"], **tol)
    assert_close(backward_weight(cpu, g, x, w.shape, case), expected["weight"], **tol_w)
    assert_close(backward_bias(cpu, g), expected["bias"], **tol_w)
    # All at once (one pass over the images where the split allows) and every subset.
    for wanted in (("in", "weight", "bias"), ("in", "weight"), ("weight", "bias"), ("in",)):
        grads = backward_all(cpu, g, x, w, wanted, case)
        for name in wanted:
            assert_close(grads[name], expected[name], **tols[name])


# ----- kernels against the reference -------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_kernels_match_reference(case, dtype):
    check_all_kernels(case, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", TILE_CASES)
def test_kernels_match_reference_over_several_tiles(case, dtype):
    check_all_kernels(case, dtype)


@pytest.fixture(params=[1, 2, 3])
def threads(request):
    original = _cpu.get_num_threads()
    _cpu.set_num_threads(request.param)
    yield request.param
    _cpu.set_num_threads(original)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", IMPLICIT_CASES)
def test_kernels_match_reference_on_every_isa_and_thread_count(case, dtype, simd_level,
                                                               threads):
    """One thread, whole images per thread, and pixel ranges of an image per thread."""
    check_all_kernels(case, dtype)
    check_all_kernels(((1,) + case[0][1:],) + case[1:], dtype)


def test_backward_weight_of_a_wide_layer_uses_fewer_partial_sums():
    """1024 x 1024 3x3 float32 weights are 38 MB: four threads' partial sums would pass
    the 128 MB budget, so three threads take the work (and the one-pass backward is
    skipped); the result must not change."""
    case = ((4, 1024, 2, 2), (1024, 1024, 3, 3), (1, 1), (1, 1), (1, 1), 1)
    x, w, _, g = arrays(case, np.float32)
    original = _cpu.get_num_threads()
    _cpu.set_num_threads(4)
    try:
        got = backward_weight(cpu, g, x, w.shape, case)
        both = backward_all(cpu, g, x, w, ("in", "weight"), case)
    finally:
        _cpu.set_num_threads(original)
    expected = backward_weight(reference, g, x, w.shape, case)
    tol = tolerance(np.float32, (1, g.shape[0] * g.shape[2] * g.shape[3]))
    assert_close(got, expected, **tol)
    assert_close(both["weight"], expected, **tol)
    assert_close(both["in"], backward_input(reference, g, w, x.shape, case),
                 **tolerance(np.float32, w.shape))


def test_reference_is_an_adjoint_pair():
    """<conv(x), g> = <x, backward_input(g)> = <w, backward_weight(g)> for the oracle."""
    for case in CASES:
        x, w, _, g = arrays(case, np.float64)
        y = forward(reference, x, w, None, case)
        dot = float(np.sum(y * g))
        assert np.isclose(dot, np.sum(x * backward_input(reference, g, w, x.shape, case)))
        assert np.isclose(dot, np.sum(w * backward_weight(reference, g, x, w.shape, case)))


def test_extreme_values_propagate():
    case = CASES[1]
    x, w, b, _ = arrays(case, np.float32)
    x[0, 1, 3, 4] = np.nan
    x[1, 0, 0, 0] = np.inf
    assert_close(forward(cpu, x, w, b, case), forward(reference, x, w, b, case))


# ----- against PyTorch ---------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES + TILE_CASES[:1], ids=CASE_IDS + ["tiles"])
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, g = arrays(case, np.float64)
    stride, padding, dilation, groups = params(case)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride, padding, dilation, groups)
    yt.backward(torch.tensor(g))

    xa, wa, ba = (axonic.tensor(a, requires_grad=True) for a in (x, w, b))
    ya = F.conv2d(xa, wa, ba, stride, padding, dilation, groups)
    ya.backward(axonic.tensor(g))
    assert_close(ya, yt.detach().numpy())
    assert_close(xa.grad, xt.grad.numpy())
    assert_close(wa.grad, wt.grad.numpy())
    assert_close(ba.grad, bt.grad.numpy())


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("padding", ("same", "valid"))
@pytest.mark.parametrize("kernel,dilation", [((3, 3), 1), ((2, 4), 1), ((3, 2), 2)])
def test_string_padding_against_torch(padding, kernel, dilation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 8))
    w = rng.standard_normal((4, 3, *kernel))
    expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=padding,
                                          dilation=dilation).numpy()
    assert_close(F.conv2d(axonic.tensor(x), axonic.tensor(w), padding=padding,
                          dilation=dilation), expected)
    if padding == "same":
        gradcheck(lambda t: F.conv2d(t, axonic.tensor(w), padding="same", dilation=dilation),
                  x[:1, :, :4, :5])


def test_module_init_matches_torch_bounds_and_seed():
    axonic.manual_seed(5)
    conv = nn.Conv2d(6, 4, (3, 2), groups=2)
    assert conv.weight.shape == (4, 3, 3, 2) and conv.bias.shape == (4,)
    bound = 1 / np.sqrt(3 * 3 * 2)
    for p in (conv.weight, conv.bias):
        values = p.numpy()
        assert values.dtype == np.float32
        assert np.all(np.abs(values) <= bound) and np.abs(values).max() > bound / 4
    axonic.manual_seed(5)
    again = nn.Conv2d(6, 4, (3, 2), groups=2)
    assert_close(again.weight, conv.weight)
    assert_close(again.bias, conv.bias)
    assert nn.Conv2d(2, 2, 1, bias=False).bias is None
    assert "kernel_size=(3, 2)" in repr(conv)


# ----- autograd ----------------------------------------------------------------------------

GRAD_CASES = [c for c in CASES if np.prod(c[0]) <= 200 and np.prod(c[1]) <= 60]


@pytest.mark.parametrize("case", GRAD_CASES,
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c in GRAD_CASES])
def test_conv2d_module_gradcheck(case):
    x_shape, w_shape, stride, padding, dilation, groups = case
    conv = nn.Conv2d(x_shape[1], w_shape[0], w_shape[2:], stride, padding, dilation, groups,
                     dtype=np.float64)
    x, w, b, _ = arrays(case, np.float64)

    def through_module(xt, wt, bt):
        conv.weight, conv.bias = wt, bt  # plain tensors: gradients flow to the inputs
        return conv(xt)

    gradcheck(through_module, x, w, b)


def test_module_parameters_receive_gradients_and_unbatched_input():
    axonic.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((3, 6, 7))
    out = conv(axonic.tensor(x))
    assert out.shape == (5, 6, 7)
    batched = conv(axonic.tensor(x[None]))
    assert_close(out, batched.numpy()[0])
    out.sum().backward()
    assert conv.weight.grad.shape == (5, 3, 3, 3) and conv.bias.grad.shape == (5,)
    assert_close(conv.bias.grad, np.full(5, 42.0))
    gradcheck(lambda t: F.conv2d(t, axonic.tensor(conv.weight.numpy()), None, 2, 1),
              x[:, :4, :5])


def test_non_contiguous_input():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 9, 8))[:, ::2, :, ::-1]
    w = rng.standard_normal((4, 3, 3, 3))
    expected = forward(reference, np.ascontiguousarray(x), w, None, CASES[1])
    assert_close(F.conv2d(axonic.tensor(x), axonic.tensor(w), None, 2, 1), expected)


# ----- bad input ---------------------------------------------------------------------------

BAD = [
    # (x shape, weight shape, stride, padding, dilation, groups, message)
    ((2, 3, 5, 5), (4, 2, 3, 3), (1, 1), (0, 0), (1, 1), 1, "channels"),
    ((2, 3, 5, 5), (4, 1, 3, 3), (1, 1), (0, 0), (1, 1), 2, "channels"),
    ((2, 4, 5, 5), (3, 2, 3, 3), (1, 1), (0, 0), (1, 1), 2, "divisible"),
    ((2, 3, 5, 5), (4, 3, 7, 3), (1, 1), (0, 0), (1, 1), 1, "larger than the padded"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), (3, 1), 1, "larger than the padded"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (0, 1), (0, 0), (1, 1), 1, "stride"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, -1), (0, 0), (1, 1), 1, "stride"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), (0, 1), 1, "dilation"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (-1, 0), (1, 1), 1, "padding"),
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 0, "groups"),
]


@pytest.mark.parametrize("backend", BACKENDS, ids=("cpu", "reference"))
@pytest.mark.parametrize("bad", BAD, ids=[b[-1] + str(i) for i, b in enumerate(BAD)])
def test_bad_geometry_raises(backend, bad):
    x_shape, w_shape, stride, padding, dilation, groups, message = bad
    x = np.ones(x_shape, np.float32)
    w = np.ones(w_shape, np.float32)
    out = np.empty((2, 4, 3, 3), np.float32)
    p = (stride, padding, dilation, groups)
    with pytest.raises(ValueError, match=message):
        backend.conv2d_forward(x, w, None, out, *p)
    with pytest.raises(ValueError, match=message):
        backend.conv2d_backward_input(out, w, x, *p)
    with pytest.raises(ValueError, match=message):
        backend.conv2d_backward_weight(out, x, w, *p)
    with pytest.raises(ValueError, match=message):
        backend.conv2d_backward(out, x, w, None, np.empty_like(w), None, *p)
    with pytest.raises(ValueError, match=message):
        F.conv2d(axonic.tensor(x), axonic.tensor(w), None, stride, padding, dilation, groups)


def test_bad_shapes_raise():
    x = np.ones((2, 3, 5, 5), np.float32)
    w = np.ones((4, 3, 3, 3), np.float32)
    p = ((1, 1), (0, 0), (1, 1), 1)
    with pytest.raises(ValueError, match="4-D"):
        cpu.conv2d_forward(x[0], w, None, np.empty((4, 3, 3), np.float32), *p)
    with pytest.raises(ValueError, match="4-D"):
        cpu.conv2d_forward(x, w[0], None, np.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(ValueError, match="out must have shape"):
        cpu.conv2d_forward(x, w, None, np.empty((2, 4, 3, 4), np.float32), *p)
    with pytest.raises(ValueError, match="bias must have shape"):
        cpu.conv2d_forward(x, w, np.ones(3, np.float32), np.empty((2, 4, 3, 3), np.float32), *p)
    with pytest.raises(ValueError, match="grad_bias must have shape"):
        cpu.conv2d_backward_bias(np.ones((2, 4, 3, 3), np.float32), np.empty(3, np.float32))
    with pytest.raises(TypeError, match="dtype"):
        cpu.conv2d_forward(x, w.astype(np.float64), None, np.empty((2, 4, 3, 3), np.float32), *p)
    g = np.ones((2, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match="grad_weight must have shape"):
        cpu.conv2d_backward(g, x, w, None, np.empty((4, 3, 3, 2), np.float32), None, *p)
    with pytest.raises(ValueError, match="grad_in must have shape"):
        cpu.conv2d_backward(g, x, w, np.empty((2, 3, 5, 4), np.float32), None, None, *p)
    with pytest.raises(ValueError, match="grad_bias must have shape"):
        cpu.conv2d_backward(g, x, w, None, None, np.empty(3, np.float32), *p)
    with pytest.raises(TypeError, match="dtype"):
        cpu.conv2d_backward(g, x, w, None, np.empty((4, 3, 3, 3)), None, *p)
    with pytest.raises(ValueError, match="must not share memory"):
        cpu.conv2d_backward(g, x, w, x, None, None, *p)  # grad_in written over x
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(axonic.tensor(np.ones((5, 5), np.float32)), axonic.tensor(w))
    with pytest.raises(ValueError, match="4-D"):
        F.conv2d(axonic.tensor(np.ones((1, 2, 3, 5, 5), np.float32)), axonic.tensor(w))
    with pytest.raises(ValueError, match="bias"):
        F.conv2d(axonic.tensor(x), axonic.tensor(w), axonic.tensor(np.ones(5, np.float32)))
    with pytest.raises(TypeError):
        F.conv2d(axonic.tensor(x), axonic.tensor(w.astype(np.float64)))
    with pytest.raises(ValueError, match="same"):
        F.conv2d(axonic.tensor(x), axonic.tensor(w), stride=2, padding="same")
    with pytest.raises(ValueError, match="channels"):
        nn.Conv2d(4, 5, 3)(axonic.tensor(x))


@pytest.mark.parametrize("args", [(3, 4, 3, 1, 0, 1, 2), (0, 4, 3), (4, 4, 0), (4, 4, 3, 1, 0,
                                                                                    1, 0)])
def test_bad_module_arguments_raise(args):
    with pytest.raises(ValueError):
        nn.Conv2d(*args)
