"""axonic.nn.utils: gradient clipping against float64 NumPy and torch.nn.utils, and the
L1/L2 penalties' values, gradients and their equivalence with SGD's weight_decay."""

from __future__ import annotations

import math

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    l1_penalty,
    l2_penalty,
)
from conftest import assert_close, gradcheck

NORM_TYPES = [1.0, 2.0, 3.0, math.inf]
SHAPES = [(7,), (3, 5), (), (2, 1, 4)]


def with_grads(grads: list[np.ndarray | None], dtype=np.float32) -> list[axonic.Tensor]:
    """Parameters of the grads' shapes (zeros), each with ``.grad`` set (None stays None)."""
    params = []
    for g in grads:
        p = axonic.tensor(np.zeros(np.shape(g) if g is not None else (2,)), dtype=dtype,
                          requires_grad=True)
        p.grad = None if g is None else axonic.tensor(np.asarray(g), dtype=dtype)
        params.append(p)
    return params


def random_grads(seed: int = 0, scale: float = 3.0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(shape) for shape in SHAPES]


def numpy_total_norm(grads: list[np.ndarray], norm_type: float) -> float:
    """The norm of all gradients concatenated, in float64."""
    flat = np.concatenate([np.ravel(g).astype(np.float64) for g in grads])
    if norm_type == math.inf:
        return float(np.abs(flat).max())
    return float((np.abs(flat) ** norm_type).sum() ** (1.0 / norm_type))


# ----- clip_grad_norm_ ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_clip_grad_norm_matches_float64_numpy(norm_type, dtype):
    grads = random_grads()
    params = with_grads(grads, dtype)
    originals = [p.grad for p in params]
    arrays = [p.grad._data for p in params]
    exact = [g.astype(dtype).astype(np.float64) for g in grads]
    expected_norm = numpy_total_norm(exact, norm_type)
    max_norm = 0.25 * expected_norm

    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)

    assert isinstance(total, axonic.Tensor) and total.shape == () and total.dtype == dtype
    assert not total.requires_grad
    assert_close(total, np.asarray(expected_norm, dtype=np.float64), rtol=1e-6, atol=0)
    coefficient = max_norm / (expected_norm + 1e-6)
    for p, original, array, g in zip(params, originals, arrays, exact):
        assert p.grad is original and p.grad._data is array  # scaled in place
        assert_close(p.grad, g * coefficient, rtol=1e-6, atol=1e-12)
    clipped = numpy_total_norm([p.grad.numpy() for p in params], norm_type)
    assert clipped == pytest.approx(max_norm, rel=1e-5)


@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_grads_under_max_norm_are_unchanged(norm_type):
    grads = random_grads(1)
    params = with_grads(grads)
    norm = numpy_total_norm([g.astype(np.float32) for g in grads], norm_type)
    total = clip_grad_norm_(params, norm * 1.01, norm_type)
    assert total.item() == pytest.approx(norm, rel=1e-6)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g.astype(np.float32))


def test_none_grads_are_skipped():
    grads = [np.array([3.0, 4.0]), None, np.array([[12.0]]), None]
    params = with_grads(grads)
    total = clip_grad_norm_(params, 1.0)
    assert total.item() == pytest.approx(13.0)
    assert params[1].grad is None and params[3].grad is None
    assert_close(params[0].grad, np.array([3.0, 4.0], np.float32) / 13.0)
    assert_close(params[2].grad, np.array([[12.0]], np.float32) / 13.0)


def test_returned_norm_is_the_norm_before_clipping():
    params = with_grads([np.array([30.0, 40.0])], np.float64)
    assert clip_grad_norm_(params, 5.0).item() == pytest.approx(50.0, rel=1e-12)
    assert clip_grad_norm_(params, 5.0).item() == pytest.approx(5.0 * 50 / (50 + 1e-6))


def test_one_tensor_a_generator_and_a_module_are_accepted():
    (p,) = with_grads([np.array([3.0, 4.0])])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    assert_close(p.grad, np.array([0.6, 0.8], np.float32))
    params = with_grads([np.array([6.0, 8.0])])
    assert clip_grad_norm_(iter(params), 1.0).item() == pytest.approx(10.0)
    assert_close(params[0].grad, np.array([0.6, 0.8], np.float32))
    model = nn.Linear(3, 2)
    model(axonic.randn(4, 3)).sum().backward()
    clip_grad_norm_(model.parameters(), 1e-3)
    assert numpy_total_norm([p.grad.numpy() for p in model.parameters()], 2) <= 1e-3


def test_no_gradients_give_a_zero_norm():
    for params in ([], [axonic.zeros(3, requires_grad=True)]):
        total = clip_grad_norm_(params, 1.0)
        assert total.shape == () and total.dtype == np.float32 and total.item() == 0.0
    assert get_total_norm([]).item() == 0.0


def test_mixed_dtypes_give_the_promoted_dtype():
    params = with_grads([np.array([3.0, 4.0])], np.float64) + with_grads([np.array([12.0])])
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float64 and total.item() == pytest.approx(13.0, rel=1e-12)
    assert params[0].grad.dtype == np.float64 and params[1].grad.dtype == np.float32


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_error_if_nonfinite_raises_and_leaves_grads(bad, norm_type):
    params = with_grads([np.array([1.0, bad]), np.array([2.0])])
    with pytest.raises(RuntimeError, match=r"total norm of order .* is non-finite"):
        clip_grad_norm_(params, 1.0, norm_type, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), np.array([1.0, bad], np.float32))
    np.testing.assert_array_equal(params[1].grad.numpy(), np.array([2.0], np.float32))


def test_nonfinite_norm_without_error_scales_as_pytorch():
    # NaN norm: PyTorch multiplies by clamp(NaN, max=1) = NaN, so every gradient is NaN.
    params = with_grads([np.array([math.nan, 4.0]), np.array([1.0])])
    assert math.isnan(clip_grad_norm_(params, 1.0).item())
    assert all(np.isnan(p.grad.numpy()).all() for p in params)
    # Infinite norm: the coefficient is 0, so inf * 0 = NaN and finite entries become 0.
    params = with_grads([np.array([math.inf, 4.0])])
    assert clip_grad_norm_(params, 1.0).item() == math.inf
    np.testing.assert_array_equal(params[0].grad.numpy(), np.array([math.nan, 0.0], np.float32))


def test_negative_and_zero_max_norm_as_pytorch():
    params = with_grads([np.array([3.0, 4.0])])
    clip_grad_norm_(params, -1.0)  # allowed by PyTorch: flips the gradients' sign
    assert_close(params[0].grad, np.array([-0.6, -0.8], np.float32))
    params = with_grads([np.array([3.0, 4.0])])
    clip_grad_norm_(params, 0.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), np.zeros(2, np.float32))


def test_norm_types_zero_fractional_and_string_as_pytorch():
    grads = [np.array([0.0, 3.0, 4.0]), np.array([1.0, 0.0])]
    # 0: the norm of the per-gradient non-zero counts [2, 1], which is their own count, 2.
    assert clip_grad_norm_(with_grads(grads), 10.0, 0).item() == 2.0
    expected = (math.sqrt(3) + 2 + 1) ** 2
    assert clip_grad_norm_(with_grads(grads), 100.0, 0.5).item() == pytest.approx(expected)
    assert clip_grad_norm_(with_grads(grads), 10.0, "inf").item() == 4.0  # float("inf")


def test_empty_gradient_and_the_infinity_norm():
    params = with_grads([np.zeros(0), np.array([3.0, 4.0])])
    assert clip_grad_norm_(params, 10.0).item() == pytest.approx(5.0)
    with pytest.raises(RuntimeError, match="empty"):
        clip_grad_norm_(params, 10.0, math.inf)


def test_float32_sums_do_not_overflow():
    # A documented difference from PyTorch, whose float32 norm overflows to inf here and
    # then zeroes the gradients: axonic sums in float64.
    params = with_grads([np.array([1e20, 1e20])])
    total = clip_grad_norm_(params, 1.0)
    assert total.item() == pytest.approx(math.sqrt(2) * 1e20, rel=1e-6)
    assert_close(params[0].grad, np.full(2, math.sqrt(0.5), np.float32))


def test_bad_arguments():
    with pytest.raises(TypeError, match="item 1 is a ndarray"):
        clip_grad_norm_([axonic.zeros(2), np.zeros(2)], 1.0)
    with pytest.raises(TypeError):
        clip_grad_norm_(1.0, 1.0)
    with pytest.raises(TypeError, match="clip_grad_value_"):
        clip_grad_value_([[1.0]], 1.0)
    with pytest.raises(ValueError):
        clip_grad_norm_(with_grads([np.ones(2)]), "big")


def test_get_total_norm_and_clip_grads_with_norm_compose_to_clip_grad_norm_():
    grads = random_grads(2)
    params, reference = with_grads(grads), with_grads(grads)
    total = get_total_norm([p.grad for p in params], 3.0)
    clip_grads_with_norm_(params, 1.5, total)
    assert total.item() == clip_grad_norm_(reference, 1.5, 3.0).item()
    for p, r in zip(params, reference):
        np.testing.assert_array_equal(p.grad.numpy(), r.grad.numpy())
    assert get_total_norm(axonic.tensor([3.0, 4.0])).item() == pytest.approx(5.0)
    clip_grads_with_norm_(params[0], 1.0, 10.0)  # a float norm is accepted too


# ----- clip_grad_value_ ---------------------------------------------------------------------


def test_clip_grad_value_bounds_in_place():
    grads = random_grads(3)
    params = with_grads(grads + [None])
    arrays = [p.grad._data for p in params[:-1]]
    assert clip_grad_value_(params, 0.5) is None
    for p, array, g in zip(params, arrays, grads):
        assert p.grad._data is array
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g.astype(np.float32), -0.5, 0.5))
    assert params[-1].grad is None


def test_clip_grad_value_nan_and_negative_value_as_pytorch():
    (p,) = with_grads([np.array([3.0, -4.0, 0.25, math.nan])])
    clip_grad_value_(p, 1)
    np.testing.assert_array_equal(p.grad.numpy(), np.array([1.0, -1.0, 0.25, math.nan],
                                                            np.float32))
    clip_grad_value_(p, -0.5)  # min > max: every entry becomes max, as torch.clamp
    np.testing.assert_array_equal(p.grad.numpy(), np.array([-0.5, -0.5, -0.5, math.nan],
                                                            np.float32))


# ----- against PyTorch ----------------------------------------------------------------------


def torch_params(torch, grads: list[np.ndarray], dtype) -> list:
    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=dtype, requires_grad=True)
        p.grad = torch.tensor(np.asarray(g), dtype=dtype)
        params.append(p)
    return params


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_matches_pytorch(dtype):
    torch = pytest.importorskip("torch")
    cases = [random_grads(4), random_grads(5, 1e-3),
             [np.array([0.0, 3.0, 4.0]), np.array([1.0, 0.0])],
             [np.array([math.nan, 1.0]), np.array([2.0])],
             [np.array([math.inf, 1.0]), np.array([2.0])]]
    for grads in cases:
        for norm_type in [0.0, 0.5, 1.0, 2.0, 3.0, math.inf, -math.inf, -1.0]:
            for max_norm in [0.1, 1.0, 1e3, -2.0]:
                ours = with_grads(grads, np.dtype(dtype))
                theirs = torch_params(torch, grads, getattr(torch, dtype))
                total = clip_grad_norm_(ours, max_norm, norm_type)
                expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
                assert total.dtype == np.dtype(dtype)
                assert_close(total, expected.numpy(), rtol=1e-6, atol=0)
                for p, t in zip(ours, theirs):
                    assert_close(p.grad, t.grad.numpy(), rtol=2e-6, atol=1e-12)


def test_clip_grad_value_matches_pytorch():
    torch = pytest.importorskip("torch")
    grads = random_grads(6) + [np.array([math.nan, math.inf, -math.inf])]
    for clip_value in [0.0, 0.3, 2.0, -1.0]:
        ours = with_grads(grads)
        theirs = torch_params(torch, grads, torch.float32)
        clip_grad_value_(ours, clip_value)
        torch.nn.utils.clip_grad_value_(theirs, clip_value)
        for p, t in zip(ours, theirs):
            np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())


# ----- L1 / L2 penalties --------------------------------------------------------------------


def test_penalty_values():
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(shape) for shape in SHAPES]
    params = [axonic.tensor(a, requires_grad=True) for a in arrays]
    l1 = l1_penalty(params, 0.3)
    l2 = l2_penalty(params, 0.3)
    assert l1.shape == () and l1.dtype == np.float64
    assert l1.item() == pytest.approx(0.3 * sum(np.abs(a).sum() for a in arrays), rel=1e-12)
    assert l2.item() == pytest.approx(0.3 * sum((a * a).sum() for a in arrays), rel=1e-12)
    single = axonic.tensor([[1.0, -2.0]])
    assert l1_penalty(single, 2.0).item() == 6.0 and l2_penalty(single, 2.0).item() == 10.0
    assert l2_penalty(single, 2.0).dtype == np.float32
    assert l1_penalty(iter([single]), 0.0).item() == 0.0


def test_penalty_analytic_gradients():
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((3, 4)), np.array([0.0, -1.5, 2.0])]
    params = [axonic.tensor(a, requires_grad=True) for a in arrays]
    (l1_penalty(params, 0.7) + l2_penalty(params, 0.2)).backward()
    for p, a in zip(params, arrays):
        assert_close(p.grad, 0.7 * np.sign(a) + 2 * 0.2 * a)  # sign(0) = 0, as PyTorch


def test_penalty_gradcheck():
    rng = np.random.default_rng(9)
    a = rng.uniform(0.2, 1.0, (3, 2)) * rng.choice([-1.0, 1.0], (3, 2))  # away from |w| = 0
    b = rng.standard_normal(4)
    gradcheck(lambda x, y: l1_penalty([x, y], 0.4), a, a[0])
    gradcheck(lambda x, y: l2_penalty([x, y], 0.4), a, b)
    gradcheck(lambda x: l1_penalty(x, 1.5) + l2_penalty(x, 0.5), a)


def test_penalty_bad_arguments():
    w = axonic.ones(2, requires_grad=True)
    for penalty in (l1_penalty, l2_penalty):
        with pytest.raises(ValueError, match="no parameters"):
            penalty([], 0.1)
        with pytest.raises(ValueError, match="weight must be >= 0"):
            penalty(w, -0.1)
        with pytest.raises(ValueError, match="weight must be >= 0"):
            penalty(w, math.nan)
        with pytest.raises(TypeError, match="item 0 is a ndarray"):
            penalty([np.ones(2)], 0.1)


def test_l2_penalty_with_half_the_decay_equals_sgd_weight_decay():
    rng = np.random.default_rng(10)
    x = axonic.tensor(rng.standard_normal((16, 3)))
    y = axonic.tensor(rng.standard_normal((16, 2)))
    decayed, penalized = nn.Linear(3, 2, dtype=np.float64), nn.Linear(3, 2, dtype=np.float64)
    for a, b in zip(decayed.parameters(), penalized.parameters()):
        b._data[...] = a._data
    wd = 0.1
    sgd_decayed = optim.SGD(decayed.parameters(), lr=0.1, momentum=0.9, weight_decay=wd)
    sgd_penalized = optim.SGD(penalized.parameters(), lr=0.1, momentum=0.9)
    for _ in range(10):
        for model, opt, weight in ((decayed, sgd_decayed, 0.0), (penalized, sgd_penalized, wd)):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            if weight:
                loss = loss + l2_penalty(model.parameters(), weight / 2)
            loss.backward()
            opt.step()
    for a, b in zip(decayed.parameters(), penalized.parameters()):
        assert_close(b, a.numpy())
    assert not np.allclose(decayed.weight.numpy(), 0.0)
