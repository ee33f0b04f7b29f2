"""The Tensor API: creation and dtype rules, conversions, facts, seeding and runtime settings."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from conftest import assert_close

# ----- axonic.tensor dtype rules --------------------------------------------------------------


@pytest.mark.parametrize("data, dtype", [
    (1.5, np.float32),
    ([1.0, 2.0], np.float32),
    ([1, 2.5], np.float32),
    ([[1.0], [2.0]], np.float32),
    (np.array([1.0, 2.0]), np.float64),
    (np.array([1.0], np.float32), np.float32),
    (np.array([1.0], np.float16), np.float32),
    (np.float64(1.5), np.float64),
    (np.float32(1.5), np.float32),
    (np.int32(2), np.int64),
    (3, np.int64),
    ([1, 2, 3], np.int64),
    (np.array([1, 2], np.int32), np.int64),
    (np.array([1, 2], np.uint8), np.int64),
    (True, np.bool_),
    ([True, False], np.bool_),
    (np.array([True]), np.bool_),
])
def test_tensor_default_dtypes(data, dtype):
    t = axonic.tensor(data)
    assert t.dtype == dtype
    assert_close(t.numpy().astype(np.float64), np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype, expected", [
    ("float64", np.float64), ("float32", np.float32), ("double", np.float64),
    ("float", np.float32), ("int64", np.int64), ("long", np.int64), ("bool", np.bool_),
    (np.float64, np.float64), (axonic.float64, np.float64), (np.dtype("float32"), np.float32),
    (axonic.int64, np.int64),
])
def test_tensor_dtype_override(dtype, expected):
    assert axonic.tensor([1.0, 0.0], dtype=dtype).dtype == expected


def test_tensor_unknown_dtype():
    with pytest.raises(TypeError, match="unknown dtype"):
        axonic.tensor([1.0], dtype="floaty")


def test_tensor_of_strings_is_rejected():
    with pytest.raises(TypeError, match="cannot make a tensor"):
        axonic.tensor(["a", "b"])


def test_tensor_copies_its_data():
    array = np.zeros(3)
    t = axonic.tensor(array)
    array[0] = 5.0
    assert t.numpy()[0] == 0.0


def test_tensor_from_a_tensor_keeps_its_dtype():
    source = axonic.tensor(np.ones(2))
    copy = axonic.tensor(source)
    assert copy.dtype == np.float64
    assert not np.shares_memory(copy.numpy(), source.numpy())


def test_tensor_on_an_unknown_device():
    with pytest.raises(ValueError, match="unknown device"):
        axonic.tensor([1.0], device="tpu")


# ----- creation functions ---------------------------------------------------------------------

@pytest.mark.parametrize("make", [axonic.zeros, axonic.ones, axonic.randn, axonic.rand])
@pytest.mark.parametrize("shape_args", [(2, 3), ((2, 3),), ([2, 3],)], ids=["ints", "tuple",
                                                                          "list"])
def test_shaped_creation(make, shape_args):
    t = make(*shape_args)
    assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    assert make(*shape_args, dtype="float64").dtype == np.float64
    assert make(*shape_args, requires_grad=True).requires_grad


def test_zeros_ones_full_values():
    assert_close(axonic.zeros(2, 2), np.zeros((2, 2)))
    assert_close(axonic.ones(3), np.ones(3))
    full = axonic.full((2, 3), 7.5)
    assert full.shape == (2, 3) and full.dtype == np.float32
    assert_close(full, np.full((2, 3), 7.5))
    assert axonic.full(4, 1.0, dtype="float64").shape == (4,)
    assert axonic.zeros().shape == ()


def test_creation_rejects_bad_shapes():
    with pytest.raises(ValueError, match="non-negative"):
        axonic.zeros(-1, 3)
    with pytest.raises(ValueError, match="non-negative"):
        axonic.ones(2.5)


@pytest.mark.parametrize("source_dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("make, value", [(axonic.zeros_like, 0), (axonic.ones_like, 1)])
def test_like_functions(make, value, source_dtype):
    source = axonic.tensor(np.arange(6).reshape(2, 3), dtype=source_dtype)
    t = make(source)
    assert t.shape == (2, 3) and t.dtype == np.dtype(source_dtype)
    assert (t.numpy() == value).all()
    assert make(source, dtype="float64").dtype == np.float64
    assert make(source, dtype=np.dtype("float32")).dtype == np.float32


def test_arange():
    t = axonic.arange(5)
    assert t.dtype == np.int64 and t.tolist() == [0, 1, 2, 3, 4]
    assert axonic.arange(2, 8, 3).tolist() == [2, 5]
    f = axonic.arange(0, 1, 0.25)
    assert f.dtype == np.float32
    assert_close(f, [0.0, 0.25, 0.5, 0.75])
    assert axonic.arange(3, dtype="float64").dtype == np.float64
    assert axonic.arange(5, 0, -2).tolist() == [5, 3, 1]
    with pytest.raises(ValueError, match="step"):
        axonic.arange(0, 5, 0)


def test_rand_is_in_unit_interval_and_randn_is_standard():
    axonic.manual_seed(0)
    u = axonic.rand(20000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01
    n = axonic.randn(20000).numpy()
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1.0) < 0.03


def test_from_numpy_shares_memory_and_keeps_dtype():
    array = np.arange(4.0)
    t = axonic.from_numpy(array)
    assert t.dtype == np.float64 and t.shape == (4,)
    array[0] = 9.0
    assert t.numpy()[0] == 9.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        axonic.from_numpy([1.0, 2.0])


# ----- seeding --------------------------------------------------------------------------------

def test_manual_seed_reproduces_draws():
    axonic.manual_seed(123)
    first = (axonic.randn(5).numpy(), axonic.rand(3).numpy())
    axonic.manual_seed(123)
    second = (axonic.randn(5).numpy(), axonic.rand(3).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_different_seeds_give_different_draws():
    axonic.manual_seed(1)
    a = axonic.randn(5).numpy()
    axonic.manual_seed(2)
    b = axonic.randn(5).numpy()
    assert not np.allclose(a, b)


def test_manual_seed_reproduces_parameter_init():
    axonic.manual_seed(7)
    w1 = axonic.nn.Linear(4, 3).weight.numpy().copy()
    axonic.manual_seed(7)
    w2 = axonic.nn.Linear(4, 3).weight.numpy().copy()
    np.testing.assert_array_equal(w1, w2)


@pytest.mark.parametrize("seed", [-1, 1.5, "1"])
def test_manual_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        axonic.manual_seed(seed)


# ----- conversions and facts ------------------------------------------------------------------

def test_numpy_item_tolist():
    t = axonic.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(t.numpy(), np.ndarray)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert axonic.tensor([2.5]).item() == 2.5
    assert axonic.tensor(3).item() == 3 and isinstance(axonic.tensor(3).item(), int)
    assert float(axonic.tensor(1.5)) == 1.5 and int(axonic.tensor(4)) == 4
    assert bool(axonic.tensor(True))
    assert np.asarray(t).shape == (2, 2)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_item_of_many_elements():
    with pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        axonic.tensor([1.0, 2.0]).item()


def test_facts():
    t = axonic.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.numel() == 24
    assert t.size() == (2, 3, 4) and t.size(1) == 3
    assert t.dtype == np.float32
    assert t.device == "cpu"
    assert len(t) == 2
    with pytest.raises(TypeError, match="0-d"):
        len(axonic.tensor(1.0))


def test_repr_contains_values_dtype_and_grad_fn():
    t = axonic.tensor([1.5, -2.25])
    assert "1.5" in repr(t) and "-2.25" in repr(t)
    assert repr(t).startswith("tensor(")
    assert "dtype=float64" in repr(axonic.tensor(np.array([1.0])))
    x = axonic.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=Mul" in repr(x * 2.0)
    assert "grad_fn=Add" in repr(x + 2.0)


def test_conversions_between_dtypes():
    t = axonic.tensor([1.7, -2.2])
    assert t.double().dtype == np.float64
    assert t.double().float().dtype == np.float32
    assert t.long().tolist() == [1, -2]
    assert t.to("float64").dtype == np.float64
    assert t.to(axonic.float64).dtype == np.float64
    assert t.astype("float32") is t
    assert t.to("cpu") is t and t.cpu() is t


# ----- comparisons and setitem ----------------------------------------------------------------

@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_comparisons_give_bool_tensors(op):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([3.0, 2.0, 1.0])
    for other in (axonic.tensor(b), 2.0, b):
        result = getattr(axonic.tensor(a), op)(other)
        assert isinstance(result, axonic.Tensor) and result.dtype == np.bool_
        expected = getattr(a, op)(other.numpy() if isinstance(other, axonic.Tensor) else other)
        np.testing.assert_array_equal(result.numpy(), expected)
        assert not result.requires_grad


def test_comparison_result_indexes_a_tensor():
    t = axonic.tensor([1.0, -2.0, 3.0])
    assert t[t > 0].tolist() == [1.0, 3.0]


def test_setitem():
    t = axonic.zeros(2, 3)
    t[0] = 1.0
    t[1, 2] = axonic.tensor(5.0)
    t[:, 0] = axonic.tensor([7.0, 8.0])
    assert t.tolist() == [[7.0, 1.0, 1.0], [8.0, 0.0, 5.0]]
    mask = t > 4
    t[mask] = -1.0
    assert t.tolist() == [[-1.0, 1.0, 1.0], [-1.0, 0.0, -1.0]]


def test_setitem_on_a_leaf_under_no_grad():
    w = axonic.zeros(3, requires_grad=True)
    with axonic.no_grad():
        w[1] = 2.0
    assert w.tolist() == [0.0, 2.0, 0.0]


def test_setitem_into_a_graph_result_is_refused():
    y = axonic.zeros(3, requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="in-place"):
        y[0] = 1.0


def test_zero_():
    t = axonic.ones(3)
    assert t.zero_() is t
    assert t.tolist() == [0.0, 0.0, 0.0]


# ----- runtime --------------------------------------------------------------------------------

def test_info_mentions_simd_level_and_version():
    text = axonic.info()
    assert "simd_level" in text and "version" in text and axonic.__version__ in text
    facts = axonic.build_info()
    assert facts["simd_level"] in facts["simd_levels_supported"]
    assert facts["version"] == axonic.__version__


def test_set_num_threads_and_restore():
    original = axonic.get_num_threads()
    try:
        axonic.set_num_threads(1)
        assert axonic.get_num_threads() == 1
        a = axonic.randn(40, 30)
        assert (a @ a.T).shape == (40, 40)
    finally:
        axonic.set_num_threads(original)
    assert axonic.get_num_threads() == original


def test_set_num_threads_rejects_bad_values():
    with pytest.raises(ValueError, match=">= 1"):
        axonic.set_num_threads(0)
    with pytest.raises(TypeError, match="int"):
        axonic.set_num_threads(2.0)
    with pytest.raises(TypeError, match="int"):
        axonic.set_num_threads(True)


def test_public_dtype_names():
    assert axonic.float32 is np.float32 and axonic.float64 is np.float64
    assert axonic.int64 is np.int64 and axonic.bool_ is np.bool_


def test_setitem_refuses_leaves_requiring_grad_and_graph_results():
    w = axonic.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0
    with pytest.raises(RuntimeError, match="detach"):
        (w * 2)[0] = 1.0
