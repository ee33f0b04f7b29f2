"""The autograd engine: accumulation, graph order, grad modes, detach and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from conftest import assert_close


def leaf(values, dtype="float64") -> axonic.Tensor:
    return axonic.tensor(values, dtype=dtype, requires_grad=True)


# ----- accumulation ---------------------------------------------------------------------------

def test_tensor_used_twice_accumulates():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, -4.0, 6.0])


def test_tensor_used_in_two_terms():
    x = leaf([1.0, 2.0])
    y = x * 3.0 + x.exp()
    y.sum().backward()
    assert_close(x.grad, 3.0 + np.exp([1.0, 2.0]))


def test_diamond_graph():
    x = leaf([0.5, 1.5])
    a = x * 2.0
    b = a.exp()
    c = a * a
    (b + c).sum().backward()
    a_val = 2.0 * np.array([0.5, 1.5])
    assert_close(x.grad, 2.0 * (np.exp(a_val) + 2.0 * a_val))


def test_shared_intermediate_used_by_many_consumers():
    x = leaf([2.0])
    y = x * x  # dy/dx = 2x = 4
    total = y + y + y * y  # d/dy = 2 + 2y = 10
    total.sum().backward()
    assert_close(x.grad, [40.0])


def test_accumulation_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad, [3.0 + 2.0, 3.0 + 4.0])


@pytest.fixture
def accumulate_calls(monkeypatch) -> list:
    """The shapes the CPU backend's accumulate is called with, in order."""
    calls = []
    native = axonic.backends.cpu.accumulate
    monkeypatch.setattr(axonic.backends.cpu, "accumulate",
                        lambda src, dst: calls.append(dst.shape) or native(src, dst))
    return calls


def test_large_gradients_are_summed_on_all_threads(accumulate_calls):
    """Sums of C-contiguous gradients go through the backend's accumulate, threaded above
    32768 elements: of a weight's three contributions in one graph, the third is added in
    place into the sum of the first two, and a second backward adds into .grad too. A
    transposed gradient is added by NumPy instead."""
    rng = np.random.default_rng(0)
    w = axonic.tensor(rng.standard_normal((300, 200)).astype(np.float32), requires_grad=True)
    factors = [rng.standard_normal((300, 200)).astype(np.float32) for _ in range(3)]
    for passes in (1, 2):
        loss = sum((w * axonic.tensor(f)).sum() for f in factors)
        loss.backward()
        assert_close(w.grad, passes * sum(factors), rtol=1e-5, atol=1e-5)
    assert accumulate_calls == [(300, 200)] * 3
    w.T.sum().backward()  # its gradient is a transposed view
    assert_close(w.grad, 2 * sum(factors) + 1, rtol=1e-5, atol=1e-5)
    assert len(accumulate_calls) == 3


def test_products_add_into_an_existing_grad(accumulate_calls):
    """Once a leaf has .grad, Linear and matmul add their gradients into that very array
    by the GEMM (beta = 1), with no separate sum; the bias gradient (a row sum) is added by
    accumulate. A leaf that reaches one product twice, or reaches other ops as well, still
    gets every term."""
    rng = np.random.default_rng(1)
    layer = axonic.nn.Linear(5, 3).double()
    x = leaf(rng.standard_normal((4, 5)))
    layer(x).sum().backward()
    first = {name: t.grad.numpy().copy() for name, t in
             (("x", x), ("weight", layer.weight), ("bias", layer.bias))}
    arrays = {name: t.grad._data for name, t in
              (("x", x), ("weight", layer.weight), ("bias", layer.bias))}
    layer(x).sum().backward()
    assert x.grad._data is arrays["x"] and layer.weight.grad._data is arrays["weight"]
    for name, t in (("x", x), ("weight", layer.weight), ("bias", layer.bias)):
        assert_close(t.grad, 2 * first[name])
    assert accumulate_calls == [(3,)]

    a, b = leaf(rng.standard_normal((4, 6))), leaf(rng.standard_normal((6, 3)))
    square = leaf(rng.standard_normal((3, 3)))
    ones, ones_square = np.ones((4, 3)), np.ones((3, 3))
    s = square.numpy()
    for passes in (1, 2):
        loss = (axonic.matmul(a, b).sum() + (b * 2.0).sum()
                + axonic.matmul(square, square).sum())
        loss.backward()
        assert_close(a.grad, passes * ones @ b.numpy().T)
        assert_close(b.grad, passes * (a.numpy().T @ ones + 2.0))
        assert_close(square.grad, passes * (ones_square @ s.T + s.T @ ones_square))


def test_a_weight_shared_across_steps_sums_inside_the_gemm(accumulate_calls, monkeypatch):
    """An RNN-like chain reuses one Linear 4 times: from the second step on, its weight
    gradient is added by the GEMM into the sum this pass is building (no accumulate call
    of the weight's shape), and every gradient equals the one summed the plain way."""
    rng = np.random.default_rng(2)
    layer = axonic.nn.Linear(6, 6).double()
    x = leaf(rng.standard_normal((3, 6)))

    def gradients():
        for p in (x, layer.weight, layer.bias):
            p.grad = None
        h = x
        for _ in range(4):
            h = layer(h).tanh()
        (h * h).sum().backward()
        return [p.grad.numpy().copy() for p in (x, layer.weight, layer.bias)]

    fused = gradients()
    assert (6, 6) not in accumulate_calls and (6,) in accumulate_calls
    monkeypatch.setattr(axonic.autograd.ops_linalg.Linear, "adds_into_grads", False)
    plain = gradients()
    assert (6, 6) in accumulate_calls
    for got, expected in zip(fused, plain):
        assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_a_leafs_own_grad_may_feed_the_next_backward():
    """.grad's memory as an operand of a product with the leaf, or as the root gradient:
    the sums then go the plain way instead of writing into an array they read."""
    w = axonic.tensor(np.ones((300, 200), np.float32), requires_grad=True)
    (w * 2.0).sum().backward()
    alias = axonic.Tensor._wrap(w.grad._data)
    axonic.matmul(alias.T, w).sum().backward()  # d/dw = alias @ ones((200, 200)) = 400
    assert_close(w.grad, np.full((300, 200), 402.0))
    (w + 0.0).backward(w.grad)
    assert_close(w.grad, np.full((300, 200), 804.0))


def test_leaf_grad_does_not_alias_the_upstream_gradient():
    """Two leaves fed by one Add get separate arrays: changing one leaves the other alone."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).backward(axonic.tensor([1.0, 1.0], dtype="float64"))
    a.grad.zero_()
    assert_close(b.grad, [1.0, 1.0])
    (a + b).sum().backward()
    assert_close(a.grad, [1.0, 1.0])
    assert_close(b.grad, [2.0, 2.0])


def test_leaf_adopts_fresh_gradients_and_copies_the_rest():
    """A Function that declares fresh_grads hands its arrays to the leaves as .grad; the
    caller's own gradient array is still copied; accumulation stays right either way."""
    x = axonic.randn(2, 3, 6, 6, requires_grad=True)
    w = axonic.randn(4, 3, 3, 3, requires_grad=True)
    y = axonic.nn.functional.conv2d(x, w, padding=1)
    g = np.ones(y.shape, np.float32)
    y.backward(axonic.tensor(g))
    first = x.grad.numpy().copy()
    y.backward(axonic.tensor(g))  # the same graph again: the adopted array must not alias
    assert_close(x.grad, 2 * first)
    z = leaf([1.0, 2.0])
    upstream = axonic.tensor([5.0, 6.0], dtype="float64")
    z.backward(upstream)
    upstream._data[:] = 0.0
    assert_close(z.grad, [5.0, 6.0])


def test_backward_on_a_leaf():
    x = leaf([1.0, 2.0])
    x.backward(axonic.tensor([3.0, 4.0]))
    assert_close(x.grad, [3.0, 4.0])


def test_backward_through_a_zero_dim_leaf():
    s = leaf(2.0)
    x = leaf([1.0, 2.0, 3.0])
    (x * s).sum().backward()
    assert s.grad.shape == () and isinstance(s.grad.numpy(), np.ndarray)
    assert_close(s.grad, np.array(6.0))
    assert_close(x.grad, [2.0, 2.0, 2.0])


def test_only_leaves_that_require_grad_get_grad():
    x, c = leaf([1.0]), axonic.tensor([2.0], dtype="float64")
    (x * c).sum().backward()
    assert x.grad is not None and c.grad is None


def test_intermediate_results_keep_no_grad():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.sum().backward()
    assert y.grad is None


# ----- graph order ----------------------------------------------------------------------------

def test_deep_chain_has_no_recursion_error():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    assert_close(x.grad, [1.0])
    assert_close(y, [5001.0])


def test_deep_chain_with_branches_in_reverse_topological_order():
    """Each step consumes the previous value several times; a node processed before all its
    consumers would miss contributions, and the gradient would not come out as exactly 1."""
    x = leaf([1.0])
    y = x
    for _ in range(60):
        y = y * 0.5 + y * 0.5 + y * 0.0
    y.sum().backward()
    assert_close(x.grad, [1.0])
    x2 = leaf([1.0])
    y = x2
    for _ in range(3000):
        y = (y + y) * 0.5
    y.sum().backward()
    assert_close(x2.grad, [1.0])


def test_gradient_reaches_through_long_multiplicative_chain():
    x = leaf([1.0])
    y = x
    for _ in range(50):
        y = y * 1.1
    y.sum().backward()
    assert_close(x.grad, [1.1**50])


# ----- grad modes -----------------------------------------------------------------------------

def test_no_grad_context_manager():
    x = leaf([1.0, 2.0])
    with axonic.no_grad():
        assert not axonic.is_grad_enabled()
        y = x * 2.0
    assert axonic.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_decorator():
    @axonic.no_grad()
    def double(t):
        assert not axonic.is_grad_enabled()
        return t * 2.0

    y = double(leaf([1.0]))
    assert not y.requires_grad
    assert axonic.is_grad_enabled()
    assert double.__name__ == "double"


def test_enable_grad_inside_no_grad():
    x = leaf([3.0])
    with axonic.no_grad():
        with axonic.enable_grad():
            assert axonic.is_grad_enabled()
            y = x * x
        assert not axonic.is_grad_enabled()
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.sum().backward()
    assert_close(x.grad, [6.0])


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(KeyError):
        with axonic.no_grad():
            raise KeyError("inside no_grad")
    assert axonic.is_grad_enabled()


def test_nested_no_grad_restores_outer_state():
    with axonic.no_grad():
        with axonic.no_grad():
            pass
        assert not axonic.is_grad_enabled()
    assert axonic.is_grad_enabled()


# ----- detach, requires_grad_, is_leaf --------------------------------------------------------

def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), y.numpy())
    (x * d).sum().backward()
    assert_close(x.grad, [2.0, 4.0])


def test_requires_grad_():
    x = axonic.tensor([1.0, 2.0])
    assert not x.requires_grad
    assert x.requires_grad_() is x
    assert x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad


def test_requires_grad_on_int_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="float"):
        axonic.tensor([1, 2]).requires_grad_()
    with pytest.raises(TypeError, match="float"):
        axonic.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="float"):
        axonic.tensor([True]).requires_grad_()


def test_requires_grad_false_on_a_non_leaf_points_to_detach():
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_is_leaf():
    x = leaf([1.0])
    c = axonic.tensor([1.0])
    assert x.is_leaf and c.is_leaf
    y = x * 2.0
    assert not y.is_leaf
    assert (c * 2.0).is_leaf  # nothing to differentiate: no node is recorded


def test_results_under_no_grad_do_not_require_grad():
    x = leaf(np.ones((2, 3)))
    with axonic.no_grad():
        results = [x + 1.0, x @ x.T, x.sum(), x[0], x.exp(), x.relu(), x.reshape(-1)]
    for r in results:
        assert not r.requires_grad and r.is_leaf


# ----- errors ---------------------------------------------------------------------------------

def test_backward_of_a_non_scalar_without_grad():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*pass backward\(grad\)"):
        y.backward()


def test_backward_with_a_wrong_shape_grad():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), expected \(2,\)"):
        y.backward(axonic.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="expected"):
        y.backward(np.ones((2, 1)))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        axonic.tensor([1.0, 2.0]).sum().backward()


def test_backward_on_a_single_element_non_scalar():
    x = leaf([[2.0]])
    (x * 3.0).backward()
    assert_close(x.grad, [[3.0]])


# ----- dtypes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_leaf_grad_has_the_leaf_dtype(dtype):
    x = leaf([1.0, 2.0], dtype=dtype)
    (x * 2.0).sum().backward()
    assert x.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_leaf_grad_dtype_with_an_upstream_gradient_of_another_dtype(dtype):
    x = leaf([1.0, 2.0], dtype=dtype)
    other = "float64" if dtype == "float32" else "float32"
    (x * 2.0).backward(axonic.tensor([1.0, 1.0], dtype=other))
    assert x.grad.dtype == np.dtype(dtype)
    assert_close(x.grad, [2.0, 2.0])


def test_mixed_precision_graph_gives_each_leaf_its_dtype():
    a = leaf([1.0, 2.0], dtype="float32")
    b = leaf([3.0, 4.0], dtype="float64")
    (a.double() * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert_close(a.grad, [3.0, 4.0])
    assert_close(b.grad, [1.0, 2.0])
