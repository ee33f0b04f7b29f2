"""The CUDA device API on any machine: availability, device names, the errors a user
gets when CUDA cannot be used, and the CUDA module's argument checks (which run before
anything touches a GPU). Kernel results are tested in test_cuda_kernels_*.py."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.backends import parse_device

cuda_usable = axonic.cuda.is_available()
needs_no_cuda = pytest.mark.skipif(cuda_usable, reason="a usable CUDA device is present")

try:
    from axonic import _cuda
except ImportError:
    _cuda = None
needs_cuda_module = pytest.mark.skipif(_cuda is None, reason="built without the CUDA module")


@pytest.mark.parametrize("spelling", ["cuda", "cuda:0"])
def test_parse_device_accepts_cuda_and_index_0(spelling):
    assert parse_device(spelling) == "cuda"
    assert parse_device("cpu") == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "cuda:1", "cuda:x", "", None, 0])
def test_parse_device_rejects_other_names(bad):
    with pytest.raises(ValueError, match="device"):
        parse_device(bad)


def test_availability_is_consistent():
    reason = axonic.cuda.why_unavailable()
    assert axonic.cuda.is_available() == (reason is None)
    assert isinstance(axonic.cuda.device_count(), int)
    if reason is not None:
        assert len(reason) > 20  # a sentence that says what is missing


@needs_no_cuda
def test_every_way_onto_cuda_says_why_it_cannot():
    reason = axonic.cuda.why_unavailable()
    attempts = [
        lambda: axonic.zeros(2, device="cuda"),
        lambda: axonic.randn(2, 3, device="cuda:0"),
        lambda: axonic.tensor([1.0], device="cuda"),
        lambda: axonic.zeros(2).to("cuda"),
        lambda: axonic.zeros(2, requires_grad=True).cuda(),
        lambda: nn.Linear(2, 3).to("cuda"),
        lambda: nn.Linear(2, 3).cuda(),
        lambda: axonic.cuda.get_device_name(),
    ]
    for attempt in attempts:
        with pytest.raises(RuntimeError, match="CUDA is not available") as error:
            attempt()
        assert reason in str(error.value)


@needs_no_cuda
def test_a_failed_module_move_leaves_the_module_on_the_cpu():
    model = nn.Linear(3, 2)
    with pytest.raises(RuntimeError):
        model.to("cuda")
    assert all(p.device == "cpu" for p in model.parameters())


def test_module_to_cpu_keeps_parameter_objects_and_gradients():
    model = nn.Linear(3, 2)
    params = list(model.parameters())
    model(axonic.randn(4, 3)).sum().backward()
    grads = [p.grad.numpy().copy() for p in params]
    assert model.to("cpu") is model and model.cpu() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.parametrize("target", ["gpu", "cuda1", 3.5])
def test_to_an_unknown_target_names_devices_and_dtypes(target):
    for thing in (axonic.zeros(2), nn.Linear(2, 2)):
        with pytest.raises(TypeError, match="neither a device .* nor a dtype"):
            thing.to(target)


def test_tensor_to_its_own_device_is_the_same_tensor():
    t = axonic.randn(2, requires_grad=True)
    assert t.to("cpu") is t and t.cpu() is t


def test_matmul_tf32_setting_is_checked():
    settings = axonic.backends.cuda.matmul
    assert settings.allow_tf32 is False
    with pytest.raises(TypeError):
        settings.allow_tf32 = 1
    with pytest.raises(AttributeError):
        settings.allow_fp16 = True
    settings.allow_tf32 = True
    settings.allow_tf32 = False


@needs_cuda_module
def test_cuda_module_reports_devices_and_runtime():
    count, reason = _cuda.device_report()
    assert count >= 0 and (count > 0 or reason)
    assert _cuda.runtime_version() > 0


@needs_cuda_module
@pytest.mark.parametrize("kernel, args", [
    ("activation_forward", ("relu", np.zeros(3, np.float32), np.zeros(3, np.float32))),
    ("gemm", (np.zeros((2, 2), np.float32),) * 3),
    ("softmax_forward", (np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32))),
])
def test_cuda_kernels_refuse_host_arrays(kernel, args):
    with pytest.raises(TypeError, match="CUDA array"):
        getattr(_cuda, kernel)(*args)


class FakeDeviceArray:
    """Claims a float32 CUDA array at a made-up address: enough to pass the checks."""

    def __init__(self, shape, address=1 << 20):
        self.__cuda_array_interface__ = {"shape": shape, "typestr": "<f4", "version": 3,
                                         "data": (address, False), "strides": None}


@needs_cuda_module
@needs_no_cuda
def test_a_launch_without_a_gpu_raises_instead_of_crashing():
    x, out = FakeDeviceArray((4,)), FakeDeviceArray((4,), address=2 << 20)
    with pytest.raises(RuntimeError, match="CUDA error"):
        _cuda.activation_forward("relu", x, out)


@needs_cuda_module
def test_cuda_arrays_are_checked_before_launch():
    with pytest.raises(ValueError, match="shape"):
        _cuda.activation_forward("relu", FakeDeviceArray((4,)), FakeDeviceArray((5,), 2 << 20))
    with pytest.raises(ValueError, match="share memory"):
        _cuda.activation_forward("relu", FakeDeviceArray((4,)), FakeDeviceArray((4,)))
    bad = FakeDeviceArray((4,))
    bad.__cuda_array_interface__["typestr"] = "<i4"
    with pytest.raises(TypeError, match="dtype"):
        _cuda.activation_forward("relu", bad, FakeDeviceArray((4,), 2 << 20))
    strided = FakeDeviceArray((4, 4))
    strided.__cuda_array_interface__["strides"] = (32, 4)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cuda.activation_forward("relu", strided, FakeDeviceArray((4, 4), 2 << 20))
