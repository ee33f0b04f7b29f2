"""axonic's whole CUDA path without a GPU: tensors, autograd, modules and optimizers on
device "cuda", where the CUDA module is the emulated one (tests/cuda_emulator: the same
kernels, compiled for the CPU) and CuPy is fake_cupy (NumPy arrays that pose as CUDA
arrays and, like CuPy, refuse to mix with host arrays). Results must equal the CPU's
to float32 rounding. On a machine with a GPU the same checks run for real through
the kernel tests and the examples; this file guards the Python glue everywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic import backends, nn, optim
from axonic.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent / "cuda_emulator"))
import build as emulator_build  # noqa: E402
import fake_cupy  # noqa: E402

from conftest import assert_close  # noqa: E402


@pytest.fixture(scope="module")
def emulated_module():
    try:
        return emulator_build.build_emulated_module(Path(__file__).resolve().parents[1])
    except emulator_build.EmulatorUnavailable as why:
        pytest.skip(f"CUDA emulator unavailable: {why}")


@pytest.fixture
def cuda(emulated_module, monkeypatch):
    """Device 'cuda' served by the emulated module and fake CuPy, for one test."""
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy.module())
    monkeypatch.setitem(sys.modules, "axonic._cuda", emulated_module)
    monkeypatch.setattr(axonic, "_cuda", emulated_module, raising=False)
    monkeypatch.delitem(sys.modules, "axonic.backends.cuda_kernels", raising=False)
    monkeypatch.setattr(backends, "_cuda_backend", None)
    axonic.cuda._cupy_problem.cache_clear()
    yield "cuda"
    axonic.cuda._cupy_problem.cache_clear()


def on_device(array, device):
    return axonic.tensor(array, device=device)


def test_the_emulated_device_is_available(cuda):
    assert axonic.cuda.is_available() and axonic.cuda.device_count() == 1
    t = axonic.zeros(3, device="cuda")
    assert t.device == "cuda" and "device='cuda'" in repr(t)
    assert backends.get_backend("cuda").name == "cuda"


def test_to_and_back_round_trips_and_gradients_flow_across(cuda):
    x = axonic.randn(4, 5, requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and x.device == "cpu"
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    ((y * y).sum()).backward()
    assert x.grad.device == "cpu"
    assert_close(x.grad, 2 * x.numpy())


def test_scalars_and_host_arrays_follow_the_tensor_to_its_device(cuda):
    x = axonic.ones(3, device="cuda")
    assert (x + 1).device == "cuda" and (2 * x).device == "cuda"
    assert (x + np.arange(3, dtype=np.float32)).device == "cuda"
    with pytest.raises(RuntimeError, match="cpu"):
        x + axonic.ones(3)


def mlp_and_cnn_step(device: str, seed: int = 0):
    """One step of a small CNN (conv, BN, ReLU, pools, dropout, linear, softmax-CE,
    Adam with amsgrad) on ``device``; returns the loss, gradients and updated weights."""
    axonic.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.GELU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3),
    )
    model.to(device)
    optimizer = optim.Adam(model.parameters(), lr=0.01, amsgrad=True, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    x = on_device(rng.standard_normal((3, 2, 8, 8)).astype(np.float32), device)
    y = on_device(np.array([0, 2, 1]), device)
    for _ in range(2):
        loss = nn.CrossEntropyLoss()(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    grads = [p.grad.numpy() for p in model.parameters()]
    return loss.item(), grads, [p.numpy() for p in model.parameters()], model


def test_a_cnn_trains_the_same_on_cuda_as_on_the_cpu(cuda):
    loss_cpu, grads_cpu, weights_cpu, _ = mlp_and_cnn_step("cpu")
    loss_gpu, grads_gpu, weights_gpu, model = mlp_and_cnn_step("cuda")
    assert all(p.device == "cuda" for p in model.parameters())
    assert all(b.device == "cuda" for _, b in model.named_buffers())
    assert loss_gpu == pytest.approx(loss_cpu, rel=1e-4)
    for g_cpu, g_gpu in zip(grads_cpu, grads_gpu):
        assert_close(g_gpu, g_cpu, rtol=1e-3, atol=1e-5)
    for w_cpu, w_gpu in zip(weights_cpu, weights_gpu):
        assert_close(w_gpu, w_cpu, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name, options", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Adagrad", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}), ("Adadelta", {}),
    ("AdamW", {"lr": 0.01}), ("Adamax", {"lr": 0.01}), ("NAdam", {"lr": 0.01}),
])
def test_every_optimizer_steps_the_same_on_cuda(cuda, name, options):
    rng = np.random.default_rng(1)
    start = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (7,))]
    grads = [rng.standard_normal(v.shape).astype(np.float32) for v in start]
    results = {}
    for device in ("cpu", "cuda"):
        params = [nn.Parameter(on_device(v, device)) for v in start]
        optimizer = getattr(optim, name)(params, **options)
        for _ in range(3):
            for p, g in zip(params, grads):
                p.grad = on_device(g, device)
            optimizer.step()
        results[device] = [p.numpy() for p in params]
        if device == "cuda":
            buffers = [v for state in optimizer.state.values() for v in state.values()
                       if hasattr(v, "shape") and v.shape]
            assert all(hasattr(v, "__cuda_array_interface__") for v in buffers)
    for cpu_value, gpu_value in zip(results["cpu"], results["cuda"]):
        assert_close(gpu_value, cpu_value, rtol=1e-4, atol=1e-6)


def test_module_to_moves_gradients_and_optimizer_state_follows(cuda):
    model = nn.Linear(3, 2)
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    model(axonic.randn(4, 3)).sum().backward()
    optimizer.step()  # state made on the CPU
    model.to("cuda")
    assert all(p.grad.device == "cuda" for p in model.parameters())
    model(axonic.randn(4, 3, device="cuda")).sum().backward()
    optimizer.step()  # the state moves to the parameters' device
    assert all(hasattr(s["exp_avg"], "__cuda_array_interface__")
               for s in optimizer.state.values())
    model.cpu()
    assert all(p.device == "cpu" and p.grad.device == "cpu" for p in model.parameters())


def test_gradients_accumulate_on_cuda_as_on_the_cpu(cuda):
    """A second backward adds into .grad: Linear's GEMM with beta = 1, the other sums by
    the backend's accumulate (the weight also reaches a product with a constant)."""
    rng = np.random.default_rng(4)
    x, w, b, factor = (rng.standard_normal(shape).astype(np.float32)
                       for shape in ((4, 5), (3, 5), (3,), (3, 5)))
    grads = {}
    for device in ("cpu", "cuda"):
        weight = axonic.tensor(w, device=device, requires_grad=True)
        bias = axonic.tensor(b, device=device, requires_grad=True)
        for _ in range(2):
            loss = F.linear(on_device(x, device), weight, bias).sum()
            (loss + (weight * on_device(factor, device)).sum()).backward()
        grads[device] = (weight.grad.cpu(), bias.grad.cpu())
    assert_close(grads["cuda"][0], grads["cpu"][0], rtol=1e-5, atol=1e-6)
    assert_close(grads["cuda"][1], grads["cpu"][1], rtol=1e-5, atol=1e-6)
    assert_close(grads["cpu"][0], 2 * (np.ones((4, 3), np.float32).T @ x + factor),
                 rtol=1e-5, atol=1e-5)


def test_softmax_family_and_matmul_on_cuda_match_the_cpu(cuda):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 7)).astype(np.float32)
    b = rng.standard_normal((7, 3)).astype(np.float32)
    for fn in (lambda t, u: (t @ u).softmax(axis=1), lambda t, u: (t @ u).log_softmax(axis=0),
               lambda t, u: t.T.matmul(t)):
        assert_close(fn(on_device(a, "cuda"), on_device(b, "cuda")),
                     fn(axonic.tensor(a), axonic.tensor(b)), rtol=1e-4, atol=1e-5)


def test_dropout_masks_are_the_same_on_both_devices(cuda):
    x = np.ones((4, 50), np.float32)
    axonic.manual_seed(3)
    cpu = F.dropout(axonic.tensor(x), 0.4, training=True).numpy()
    axonic.manual_seed(3)
    gpu = F.dropout(on_device(x, "cuda"), 0.4, training=True).numpy()
    np.testing.assert_array_equal(gpu, cpu)


def test_tf32_setting_reaches_the_cuda_gemm(cuda):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((33, 65)).astype(np.float32)
    b = rng.standard_normal((65, 17)).astype(np.float32)
    exact = a.astype(np.float64) @ b
    backends.cuda.matmul.allow_tf32 = True
    try:
        tf32 = (on_device(a, "cuda") @ on_device(b, "cuda")).numpy()
    finally:
        backends.cuda.matmul.allow_tf32 = False
    fp32 = (on_device(a, "cuda") @ on_device(b, "cuda")).numpy()
    assert np.max(np.abs(fp32 - exact)) < 1e-4
    assert 1e-5 < np.max(np.abs(tf32 - exact)) < 5e-2  # rounded to 10 mantissa bits


def test_trainer_fits_on_cuda(cuda):
    from axonic.train import Trainer

    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5),
                      metrics=["accuracy"], device="cuda")
    history = trainer.fit((x, y), epochs=5, batch_size=16, verbose=0)
    assert all(p.device == "cuda" for p in model.parameters())
    assert history.history["loss"][-1] < history.history["loss"][0]
