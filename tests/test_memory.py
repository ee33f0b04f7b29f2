"""axonic.memory: the host block cache NumPy allocates from inside axonic operations."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import axonic
from axonic import _cpu, memory, nn, optim
from conftest import run_python

_multiarray = getattr(np, "_core", None) or np.core  # NumPy 2 moved it
handler_name = _multiarray.multiarray.get_handler_name

BIG = 1 << 18  # float64 elements: 2 MiB, well above the 64 KiB the cache starts at


@pytest.fixture
def fresh_cache():
    """An empty cache with the default limit, restored afterwards."""
    limit = memory.memory_stats()["limit_bytes"]
    memory.empty_cache()
    yield
    memory.set_cache_limit(limit)


def test_operations_allocate_from_the_cache_and_restore_numpys_allocator():
    x = axonic.randn(32, 64, requires_grad=True)
    y = (x * 2.0).relu()
    assert handler_name(y._data) == "axonic_block_cache"
    y.sum().backward()
    assert handler_name(x.grad._data) == "axonic_block_cache"
    assert handler_name() == "default_allocator"  # outside an operation nothing changed
    assert handler_name(np.empty(BIG)) == "default_allocator"


def test_cached_arrays_nests_and_restores():
    with memory.cached_arrays():
        with memory.cached_arrays():
            assert handler_name() == "axonic_block_cache"
        assert handler_name() == "axonic_block_cache"
    assert handler_name() == "default_allocator"


def test_call_with_cached_arrays_returns_and_restores_even_on_error():
    assert memory.call_with_cached_arrays(lambda n: (handler_name(), n), 3) == (
        "axonic_block_cache", 3)
    assert handler_name() == "default_allocator"
    with pytest.raises(ValueError, match="do not align"):
        axonic.matmul(axonic.randn(2, 3), axonic.randn(4, 2))  # its forward raises
    assert handler_name() == "default_allocator"


def test_call_with_cached_arrays_restores_the_allocator_it_found():
    def fails():
        raise KeyError("from fn")

    with memory.cached_arrays():  # nested: the cache was already the allocator
        assert memory.call_with_cached_arrays(handler_name) == "axonic_block_cache"
        assert handler_name() == "axonic_block_cache"
    with pytest.raises(KeyError, match="from fn"):  # fn's own exception, unchanged
        memory.call_with_cached_arrays(fails)
    assert handler_name() == "default_allocator"
    with pytest.raises(TypeError, match="expects fn"):
        memory.call_with_cached_arrays()


def test_a_freed_block_is_reused(fresh_cache):
    with memory.cached_arrays():
        a = np.ones(BIG)
        before = memory.memory_stats()
        assert before["in_use_bytes"] >= a.nbytes
        del a
        assert memory.memory_stats()["cached_bytes"] >= BIG * 8
        b = np.empty(BIG)
    after = memory.memory_stats()
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"]
    del b


def test_zeros_from_a_reused_block_are_zero(fresh_cache):
    with memory.cached_arrays():
        a = np.full(BIG, 7.0)
        del a
        hits = memory.memory_stats()["hits"]
        b = np.zeros(BIG)  # calloc: the reused block held 7.0s
        assert memory.memory_stats()["hits"] == hits + 1
    assert not b.any()


def test_resize_keeps_the_data(fresh_cache):
    with memory.cached_arrays():
        a = np.arange(BIG, dtype=np.float64)
        a.resize(3 * BIG, refcheck=False)  # realloc to a larger block
        np.testing.assert_array_equal(a[:BIG], np.arange(BIG))
        assert not a[BIG:].any()
        a.resize(BIG // 2, refcheck=False)  # shrinking keeps the block
        np.testing.assert_array_equal(a, np.arange(BIG // 2))
        small = np.arange(10.0)  # a malloc block that grows into the cache's range
        small.resize(BIG, refcheck=False)
        np.testing.assert_array_equal(small[:10], np.arange(10.0))


def test_limit_zero_keeps_nothing_and_empty_cache_frees(fresh_cache):
    with memory.cached_arrays():
        a = np.ones(BIG)
    del a
    assert memory.memory_stats()["cached_bytes"] >= BIG * 8
    memory.empty_cache()
    assert memory.memory_stats()["cached_bytes"] == 0
    memory.set_cache_limit(0)
    with memory.cached_arrays():
        b = np.ones(BIG)
    del b
    assert memory.memory_stats()["cached_bytes"] == 0
    assert memory.memory_stats()["limit_bytes"] == 0


def test_an_array_freed_on_another_thread_returns_to_the_cache(fresh_cache):
    with memory.cached_arrays():
        box = [np.ones(BIG)]
    in_use = memory.memory_stats()["in_use_bytes"]
    thread = threading.Thread(target=box.clear)
    thread.start()
    thread.join()
    assert memory.memory_stats()["in_use_bytes"] == in_use - BIG * 8


def test_training_steps_stop_taking_new_memory(fresh_cache):
    """After the first steps every array of a step comes from blocks freed by the last."""
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 14 * 14, 10))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = axonic.randn(32, 1, 28, 28)
    y = axonic.tensor(np.arange(32) % 10)

    def step():
        loss = nn.CrossEntropyLoss()(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    before = memory.memory_stats()
    for _ in range(3):
        step()
    after = memory.memory_stats()
    assert after["misses"] == before["misses"], (before, after)
    assert after["hits"] > before["hits"]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="limit_bytes >= 0"):
        memory.set_cache_limit(-1)
    with pytest.raises(TypeError, match="int number of bytes"):
        memory.set_cache_limit(1.5)
    with pytest.raises(TypeError, match="mem_handler"):
        _cpu.swap_array_allocator("not a handler")
    assert handler_name() == "default_allocator"


def test_environment_variable_sets_the_limit():
    code = "import axonic; print(axonic.memory.memory_stats()['limit_bytes'])"
    result = run_python(code, AXONIC_CPU_CACHE_MB="3")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 3 << 20
    bad = run_python("import axonic", AXONIC_CPU_CACHE_MB="lots")
    assert bad.returncode != 0
    assert "AXONIC_CPU_CACHE_MB must be an integer from 0" in bad.stderr
