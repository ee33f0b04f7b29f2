"""Tensor operations: float64 gradient checks for every differentiable op, forward values
against NumPy on awkward shapes, and the errors bad input gets."""

from __future__ import annotations

import math

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from conftest import AWKWARD_SIZES, assert_close, gradcheck


def randn(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def positive(*shape, seed: int = 0) -> np.ndarray:
    """Values in [0.5, 2): safe for log, sqrt, division and fractional powers."""
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def away_from_zero(*shape, seed: int = 0, margin: float = 0.1) -> np.ndarray:
    """Normal samples pushed at least ``margin`` away from 0 (kinks of relu, abs...)."""
    x = randn(*shape, seed=seed)
    return x + margin * np.where(x >= 0, 1.0, -1.0)


# ----- arithmetic -----------------------------------------------------------------------------

BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),        # b broadcast over rows
    ((4,), (3, 4)),        # a broadcast over rows
    ((3, 1), (1, 4)),      # both stretched
    ((2, 1, 4), (3, 1)),   # new leading axis and stretched axes on both sides
    ((), (2, 3)),          # 0-d tensor
]


@pytest.mark.parametrize("a_shape, b_shape", BROADCAST_SHAPES)
@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_op_gradients_with_broadcasting(op, a_shape, b_shape):
    a = positive(*a_shape, seed=1)
    b = positive(*b_shape, seed=2) if op in ("div", "pow") else randn(*b_shape, seed=2)
    gradcheck(BINARY_OPS[op], a, b)


SCALAR_OPS = {
    "tensor+scalar": lambda x: x + 2.5,
    "scalar+tensor": lambda x: 2.5 + x,
    "tensor-scalar": lambda x: x - 2.5,
    "scalar-tensor": lambda x: 2.5 - x,
    "tensor*scalar": lambda x: x * -1.5,
    "scalar*tensor": lambda x: -1.5 * x,
    "tensor/scalar": lambda x: x / 2.5,
    "scalar/tensor": lambda x: 2.5 / x,
    "scalar**tensor": lambda x: 2.0**x,
    "tensor+array": lambda x: x + np.arange(4.0),
    "array-tensor": lambda x: np.arange(4.0) - x,
}


@pytest.mark.parametrize("op", SCALAR_OPS)
def test_scalar_operand_gradients(op):
    gradcheck(SCALAR_OPS[op], positive(3, 4))


@pytest.mark.parametrize("op", SCALAR_OPS)
def test_scalar_operand_keeps_float32(op):
    x = axonic.tensor(positive(3, 4), dtype="float32")
    assert SCALAR_OPS[op](x).dtype == np.float32


@pytest.mark.parametrize("exponent", [0, 0.5, 1, 2, 3, -1, -2.5])
def test_pow_scalar_exponent_gradients(exponent):
    gradcheck(lambda x: x**exponent, positive(3, 4))


def test_pow_scalar_exponent_zero_gives_ones_and_zero_gradient():
    x = axonic.tensor(randn(5), requires_grad=True)
    y = x**0
    assert_close(y, np.ones(5))
    y.sum().backward()
    assert_close(x.grad, np.zeros(5))


def test_pow_tensor_exponent_at_zero_base_has_finite_gradient():
    a = axonic.tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = axonic.tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a**b).sum().backward()
    assert_close(a.grad, [0.0, 12.0])
    assert_close(b.grad, [0.0, 8.0 * math.log(2.0)])


UNARY_OPS = {
    "neg": (lambda x: -x, randn),
    "exp": (lambda x: x.exp(), randn),
    "log": (lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), positive),
    "abs": (lambda x: x.abs(), away_from_zero),
}


@pytest.mark.parametrize("op", UNARY_OPS)
def test_unary_op_gradients(op):
    fn, make = UNARY_OPS[op]
    gradcheck(fn, make(3, 5))


def test_abs_gradient_is_zero_at_zero():
    x = axonic.tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    x.abs().sum().backward()
    assert_close(x.grad, [-1.0, 0.0, 1.0])


# ----- reductions -----------------------------------------------------------------------------

REDUCTIONS = ("sum", "mean", "max", "min")
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduction_gradients(op, axis, keepdims):
    gradcheck(lambda x: getattr(x, op)(axis=axis, keepdims=keepdims), randn(2, 3, 4))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduction_values_match_numpy(op, axis, keepdims):
    x = randn(2, 3, 4)
    actual = getattr(axonic.tensor(x), op)(axis=axis, keepdims=keepdims)
    assert_close(actual, getattr(np, op)(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduction_over_numpy_integer_axes(op):
    x = randn(2, 3, 4)
    for axis in (np.int64(1), (np.int64(0), np.int32(-1))):
        assert_close(getattr(axonic.tensor(x), op)(axis=axis), getattr(np, op)(x, axis=axis))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
def test_mean_matches_numpy_bit_for_bit_in_its_dtype(dtype, axis):
    # float32 over 1000 elements accumulates rounding: the same sum and division as
    # NumPy's mean, or a different dtype (integers and bools widen to float64), shows.
    x = (np.random.default_rng(0).standard_normal((10, 10, 10)) * 100).astype(dtype)
    actual = axonic.tensor(x).mean(axis=axis).numpy()
    expected = np.asarray(x.mean(axis=axis))
    assert actual.dtype == expected.dtype
    assert np.array_equal(actual, expected)


@pytest.mark.parametrize("op, pick", [("max", np.max), ("min", np.min)])
def test_max_min_share_the_gradient_between_ties(op, pick):
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    extreme = 3.0 if op == "max" else 1.0
    x = axonic.tensor(data, requires_grad=True)
    getattr(x, op)(axis=1).sum().backward()
    per_row = data == pick(data, axis=1, keepdims=True)
    assert_close(x.grad, per_row / per_row.sum(axis=1, keepdims=True))
    y = axonic.tensor(data, requires_grad=True)
    getattr(y, op)().backward()
    ties = data == extreme
    assert_close(y.grad, ties / ties.sum())


# ----- shape operations -----------------------------------------------------------------------

SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6),
    "reshape-tuple": lambda x: x.reshape((6, -1)),
    "view": lambda x: x.view(-1),
    "flatten": lambda x: x.flatten(),
    "flatten-1": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(),
    "transpose-0-2": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "permute-negative": lambda x: x.permute((-1, -3, -2)),
    "T": lambda x: x.T,
    "unsqueeze-0": lambda x: x.unsqueeze(0),
    "unsqueeze-neg": lambda x: x.unsqueeze(-1),
    "unsqueeze-squeeze": lambda x: x.unsqueeze(1).squeeze(1),
    "squeeze-all": lambda x: x.reshape(1, 2, 1, 12).squeeze(),
    "squeeze-neg": lambda x: x.reshape(2, 12, 1).squeeze(-1),
    "expand": lambda x: x[:, :1, :].expand(2, 5, 4),
    "expand-new-axes": lambda x: x[0, 0].expand(3, 2, 4),
}


@pytest.mark.parametrize("op", SHAPE_OPS)
def test_shape_op_gradients(op):
    gradcheck(SHAPE_OPS[op], randn(2, 3, 4))


NUMPY_SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6),
    "flatten-1": lambda x: x.reshape(2, -1),
    "transpose-0-2": lambda x: x.swapaxes(0, 2),
    "permute": lambda x: x.transpose(2, 0, 1),
    "T": lambda x: x.T,
    "unsqueeze-neg": lambda x: x[..., None],
    "expand": lambda x: np.broadcast_to(x[:, :1, :], (2, 5, 4)),
}


@pytest.mark.parametrize("op", NUMPY_SHAPE_OPS)
def test_shape_op_values_match_numpy(op):
    x = randn(2, 3, 4)
    assert_close(SHAPE_OPS[op](axonic.tensor(x)), NUMPY_SHAPE_OPS[op](x))


def test_squeeze_of_a_non_unit_axis_is_a_no_op():
    x = axonic.zeros(2, 3)
    assert x.squeeze(0).shape == (2, 3)


def test_expand_minus_one_keeps_the_size():
    x = axonic.tensor(randn(3, 1))
    assert x.expand(-1, 4).shape == (3, 4)
    assert x.expand(2, -1, 5).shape == (2, 3, 5)
    gradcheck(lambda t: t.expand(2, -1, 5), randn(3, 1))


# ----- matmul ---------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),          # 1-D @ 2-D
    ((3, 4), (4,)),          # 2-D @ 1-D
    ((4,), (4,)),            # 1-D @ 1-D
    ((2, 3, 4), (2, 4, 5)),  # batched
    ((2, 3, 4), (4, 5)),     # batch @ matrix
    ((3, 4), (2, 4, 5)),     # matrix @ batch
    ((1, 3, 4), (2, 4, 5)),  # broadcast batch
    ((2, 1, 3, 4), (3, 4, 2)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_gradients(a_shape, b_shape):
    gradcheck(lambda a, b: a @ b, randn(*a_shape, seed=1), randn(*b_shape, seed=2))


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_values_match_numpy(a_shape, b_shape):
    a, b = randn(*a_shape, seed=1), randn(*b_shape, seed=2)
    out = axonic.matmul(axonic.tensor(a), axonic.tensor(b))
    assert_close(out, np.matmul(a, b))


@pytest.mark.parametrize("a_shape, b_shape", [
    ((0, 3), (3, 4)),        # no rows
    ((3, 0), (0, 4)),        # empty inner dimension: a matrix of zeros
    ((3, 2), (2, 0)),        # no columns
    ((2, 3, 0), (2, 0, 4)),
    ((0, 3, 2), (2, 4)),
    ((0,), (0,)),
], ids=str)
def test_matmul_of_empty_operands(a_shape, b_shape):
    a = axonic.zeros(*a_shape, dtype="float64", requires_grad=True)
    b = axonic.zeros(*b_shape, dtype="float64", requires_grad=True)
    out = a @ b
    assert_close(out, np.matmul(np.zeros(a_shape), np.zeros(b_shape)))
    out.sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape


def test_linear_on_an_empty_batch():
    layer = axonic.nn.Linear(3, 2)
    out = layer(axonic.zeros(0, 3))
    assert out.shape == (0, 2)
    out.sum().backward()
    assert_close(layer.weight.grad, np.zeros((2, 3)))
    assert_close(layer.bias.grad, np.zeros(2))


def test_matmul_gradient_into_one_operand_only():
    a = axonic.tensor(randn(3, 4, seed=1), requires_grad=True)
    b = axonic.tensor(randn(4, 5, seed=2))
    (a @ b).sum().backward()
    assert_close(a.grad, np.ones((3, 5)) @ b.numpy().T)
    assert b.grad is None


# ----- indexing -------------------------------------------------------------------------------

MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, True, False]])

INDICES = {
    "int": 1,
    "negative-int": -1,
    "int-pair": (2, -3),
    "slice": slice(1, 3),
    "slice-step": (slice(None), slice(None, None, 2)),
    "negative-step": slice(None, None, -1),
    "negative-step-both": (slice(None, None, -2), slice(3, 0, -1)),
    "none": (None, slice(1, None)),
    "ellipsis": (Ellipsis, 1),
    "ellipsis-none": (Ellipsis, None),
    "int-array-repeats": np.array([0, 2, 2, 0, 2]),
    "int-list-repeats": [1, 1, 0],
    "int-array-columns": (slice(None), np.array([3, 0, 3])),
    "int-array-pairs": (np.array([0, 0, 2]), np.array([1, 1, 3])),
    "bool-mask": MASK,
    "bool-rows": np.array([True, False, True]),
}


@pytest.mark.parametrize("index", INDICES)
def test_indexing_gradients(index):
    gradcheck(lambda x: x[INDICES[index]], randn(3, 4))


@pytest.mark.parametrize("index", INDICES)
def test_indexing_values_match_numpy(index):
    x = randn(3, 4)
    assert_close(axonic.tensor(x)[INDICES[index]], x[INDICES[index]])


def test_indexing_with_tensors():
    x = randn(3, 4)
    rows = axonic.tensor([2, 0, 2])
    mask = axonic.tensor(MASK)
    assert_close(axonic.tensor(x)[rows], x[[2, 0, 2]])
    assert_close(axonic.tensor(x)[mask], x[MASK])
    gradcheck(lambda t: t[rows], x)


# ----- joining --------------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_concatenate_gradients(axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, shape in enumerate(shapes):
        shape[axis] = i + 1
    arrays = [randn(*s, seed=i) for i, s in enumerate(shapes)]
    gradcheck(lambda a, b, c: axonic.concatenate([a, b, c], axis=axis), *arrays)
    assert_close(axonic.cat([axonic.tensor(a) for a in arrays], axis=axis),
                 np.concatenate(arrays, axis=axis))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_gradients(axis):
    arrays = [randn(2, 3, seed=i) for i in range(3)]
    gradcheck(lambda a, b, c: axonic.stack([a, b, c], axis=axis), *arrays)
    assert_close(axonic.stack([axonic.tensor(a) for a in arrays], axis=axis),
                 np.stack(arrays, axis=axis))


def test_concatenate_with_a_constant_operand():
    a = axonic.tensor(randn(2, 3), requires_grad=True)
    b = axonic.tensor(randn(1, 3))
    axonic.concatenate([a, b]).sum().backward()
    assert_close(a.grad, np.ones((2, 3)))
    assert b.grad is None


# ----- clip, where, astype --------------------------------------------------------------------

@pytest.mark.parametrize("low, high", [(-0.5, None), (None, 0.5), (-0.5, 0.5)])
def test_clip_gradients(low, high):
    x = randn(4, 5)
    x[np.isclose(np.abs(x), 0.5, atol=1e-3)] += 0.01  # no element on a bound
    gradcheck(lambda t: t.clip(low, high), x)
    assert_close(axonic.clip(axonic.tensor(x), low, high), np.clip(x, low, high))
    assert_close(axonic.tensor(x).clamp(low, high), np.clip(x, low, high))


def test_where_gradients():
    condition = MASK
    gradcheck(lambda a, b: axonic.where(condition, a, b), randn(3, 4, seed=1), randn(3, 4, seed=2))
    gradcheck(lambda a, b: axonic.where(condition, a, b), randn(4, seed=1), randn(3, 1, seed=2))
    gradcheck(lambda a: axonic.where(axonic.tensor(condition), a, 0.5), randn(3, 4))
    gradcheck(lambda b: axonic.where(condition, -1.0, b), randn(3, 4))


def test_where_values_match_numpy():
    a, b = randn(3, 4, seed=1), randn(4, seed=2)
    assert_close(axonic.where(MASK, axonic.tensor(a), axonic.tensor(b)), np.where(MASK, a, b))


@pytest.mark.parametrize("source, target", [(np.float64, np.float32), (np.float32, np.float64)])
def test_astype_between_floats_is_differentiable(source, target):
    x = axonic.tensor(randn(3, 4), dtype=source, requires_grad=True)
    y = x.astype(target)
    assert y.dtype == target and y.requires_grad
    weight = randn(3, 4, seed=1)
    (y * axonic.tensor(weight, dtype=target)).sum().backward()
    assert x.grad.dtype == source
    assert_close(x.grad, weight.astype(target))


def test_astype_chain_gradcheck():
    gradcheck(lambda x: (x.astype("float32").astype("float64") * 0 + x).exp(), randn(3))
    gradcheck(lambda x: x.double() * 2.0, randn(3))


def test_astype_to_int_is_not_differentiable():
    x = axonic.tensor(randn(3), requires_grad=True)
    y = x.astype("int64")
    assert y.dtype == np.int64 and not y.requires_grad


# ----- activations, softmax, linear -----------------------------------------------------------

ACTIVATIONS = {
    "sigmoid": (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, np.tanh),
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu-0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu-0.7": (lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "selu": (F.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x,
                                                             1.6732632423543772 * np.expm1(x))),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    "gelu-tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                   * (x + 0.044715 * x**3)))),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "tensor.relu": (lambda x: x.relu(), lambda x: np.maximum(x, 0)),
    "tensor.sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "tensor.tanh": (lambda x: x.tanh(), np.tanh),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradients(name):
    gradcheck(ACTIVATIONS[name][0], away_from_zero(3, 7) * 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", AWKWARD_SIZES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_match_numpy(name, size, dtype):
    x = randn(size, 3, seed=size) * 4
    fn, expected = ACTIVATIONS[name]
    out = fn(axonic.tensor(x, dtype=dtype))
    assert out.dtype == dtype
    assert_close(out, expected(x.astype(dtype).astype(np.float64)),
                 atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("shape, axis", [((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1),
                                         ((4,), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_gradients(shape, axis, log):
    fn = F.log_softmax if log else F.softmax
    gradcheck(lambda x: fn(x, axis), randn(*shape) * 3)
    method = "log_softmax" if log else "softmax"
    gradcheck(lambda x: getattr(x, method)(axis), randn(*shape) * 3)


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("size", AWKWARD_SIZES)
def test_softmax_values_match_numpy(size, axis):
    x = randn(size, 5, seed=size) * 10
    shifted = x - x.max(axis=axis, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    assert_close(F.softmax(axonic.tensor(x), axis), np.exp(log_p))
    assert_close(F.log_softmax(axonic.tensor(x), axis), log_p)
    assert_close(F.softmax(axonic.tensor(x, dtype="float32"), axis), np.exp(log_p), atol=1e-6)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(x_shape, bias):
    x, w, b = randn(*x_shape, seed=1), randn(5, 3, seed=2), randn(5, seed=3)
    if bias:
        gradcheck(F.linear, x, w, b)
        expected = x @ w.T + b
        actual = F.linear(axonic.tensor(x), axonic.tensor(w), axonic.tensor(b))
    else:
        gradcheck(F.linear, x, w)
        expected = x @ w.T
        actual = F.linear(axonic.tensor(x), axonic.tensor(w))
    assert_close(actual, expected)


# ----- forward values on awkward shapes -------------------------------------------------------

ELEMENTWISE = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow": (lambda a, b: a**b, np.power),
    "exp": (lambda a, b: a.exp(), lambda a, b: np.exp(a)),
    "log": (lambda a, b: a.log(), lambda a, b: np.log(a)),
    "sqrt": (lambda a, b: a.sqrt(), lambda a, b: np.sqrt(a)),
    "abs-neg": (lambda a, b: (-a).abs(), lambda a, b: np.abs(-a)),
    "pow-scalar": (lambda a, b: a**1.5, lambda a, b: a**1.5),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", AWKWARD_SIZES)
@pytest.mark.parametrize("op", ELEMENTWISE)
def test_elementwise_values_match_numpy(op, size, dtype):
    a = positive(size, 7, seed=1).astype(dtype)
    b = positive(7, seed=2).astype(dtype)
    fn, expected = ELEMENTWISE[op]
    out = fn(axonic.tensor(a), axonic.tensor(b))
    assert out.dtype == dtype
    assert_close(out, expected(a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", AWKWARD_SIZES)
def test_matmul_values_on_awkward_sizes(size, dtype):
    a, b = randn(size, 33, seed=1).astype(dtype), randn(33, size, seed=2).astype(dtype)
    out = axonic.tensor(a) @ axonic.tensor(b)
    assert out.dtype == dtype
    assert_close(out, a.astype(np.float64) @ b.astype(np.float64),
                 atol=1e-4 if dtype == np.float32 else None)


@pytest.mark.parametrize("size", AWKWARD_SIZES)
@pytest.mark.parametrize("op", REDUCTIONS)
def test_reduction_values_on_awkward_sizes(op, size):
    x = randn(size, 7, seed=size).astype(np.float32)
    t = axonic.tensor(x)
    for axis in (None, 0, 1):
        assert_close(getattr(t, op)(axis=axis), getattr(np, op)(x.astype(np.float64), axis=axis),
                     atol=1e-4)


# ----- bad input ------------------------------------------------------------------------------

def test_matmul_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 6\)"):
        axonic.zeros(3, 4) @ axonic.zeros(5, 6)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        axonic.zeros(2, 3, 4) @ axonic.zeros(2, 5, 6)


def test_matmul_of_int_tensors_is_a_type_error():
    with pytest.raises(TypeError, match="float32 or float64"):
        axonic.tensor([[1, 2], [3, 4]]) @ axonic.tensor([[1, 2], [3, 4]])


def test_matmul_of_mixed_float_dtypes_is_a_type_error():
    with pytest.raises(TypeError, match=r"float32 and float64.*\.float\(\) or \.double\(\)"):
        axonic.zeros(2, 3) @ axonic.zeros(3, 2, dtype="float64")


def test_matmul_of_a_scalar_is_rejected():
    with pytest.raises(ValueError, match="1-D"):
        axonic.matmul(axonic.tensor(2.0), axonic.zeros(3))


@pytest.mark.parametrize("op", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 5)])
def test_reduction_over_an_out_of_range_axis(op, axis):
    with pytest.raises(ValueError, match="out of range"):
        getattr(axonic.zeros(2, 3), op)(axis=axis)


def test_reduction_over_a_repeated_axis():
    with pytest.raises(ValueError, match="repeated"):
        axonic.zeros(2, 3).sum(axis=(1, -1))


def test_reshape_to_an_incompatible_size():
    with pytest.raises(ValueError, match="12"):
        axonic.zeros(3, 4).reshape(5, 2)


@pytest.mark.parametrize("op", ["mean", "max", "min"])
def test_reductions_of_an_empty_tensor(op):
    with pytest.raises(ValueError, match="empty"):
        getattr(axonic.zeros(0, 3), op)()
    with pytest.raises(ValueError, match="empty"):
        getattr(axonic.zeros(0, 3), op)(axis=0)


def test_sum_of_an_empty_tensor_is_zero():
    assert axonic.zeros(0, 3).sum().item() == 0.0
    assert axonic.zeros(0, 3).sum(axis=0).shape == (3,)


def test_bad_permutation():
    with pytest.raises(ValueError, match="permutation"):
        axonic.zeros(2, 3).permute(0, 0)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="min and max"):
        axonic.zeros(3).clip()


def test_joining_nothing():
    with pytest.raises(ValueError, match="at least one"):
        axonic.concatenate([])
    with pytest.raises(ValueError, match="at least one"):
        axonic.stack([])


def test_activation_of_an_int_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="float32 or float64"):
        F.relu(axonic.tensor([1, 2]))
    with pytest.raises(TypeError, match="Tensor"):
        F.relu(np.zeros(3))


def test_softmax_of_a_scalar():
    with pytest.raises(ValueError, match="scalar"):
        F.softmax(axonic.tensor(1.0))


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(axonic.zeros(3), approximate="fast")


def test_linear_rejects_wrong_features():
    with pytest.raises(ValueError, match=r"expected \(\.\.\., 3\) features, got 4"):
        F.linear(axonic.zeros(2, 4), axonic.zeros(5, 3))
