"""SGD against a NumPy re-implementation of PyTorch's documented update, on least squares."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from conftest import assert_close

STEPS = 50

CONFIGS = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.5),
    "exponential-average": dict(lr=0.2, momentum=0.9, dampening=0.9),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight-decay": dict(lr=0.1, weight_decay=0.05),
    "momentum-weight-decay": dict(lr=0.05, momentum=0.8, weight_decay=0.05),
    "nesterov-weight-decay": dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True),
    "maximize": dict(lr=0.1, maximize=True),
    "maximize-momentum-decay": dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True),
}


class LeastSquares:
    """loss(w, b) = mean((X w + b - y)^2), or its negation for maximize (so ascent converges)."""

    def __init__(self, sign: float = 1.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((20, 3))
        self.y = self.x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(20)
        self.sign = sign
        self.w0, self.b0 = rng.standard_normal(3), rng.standard_normal(1)

    def loss(self, w: axonic.Tensor, b: axonic.Tensor) -> axonic.Tensor:
        residual = axonic.tensor(self.x, dtype=w.dtype) @ w + b - axonic.tensor(self.y,
                                                                                 dtype=w.dtype)
        return (residual * residual).mean() * self.sign

    def grads(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = self.x @ w + b - self.y
        scale = self.sign * 2.0 / len(self.y)
        return scale * self.x.T @ residual, scale * residual.sum(keepdims=True)


def numpy_sgd(problem: LeastSquares, groups: list[dict], steps: int) -> list[np.ndarray]:
    """PyTorch's SGD (torch.optim.SGD docs), one option dict per parameter [w, b]."""
    params = [problem.w0.copy(), problem.b0.copy()]
    buffers: list[np.ndarray | None] = [None, None]
    for _ in range(steps):
        for i, g in enumerate(problem.grads(*params)):
            o = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False,
                 "maximize": False, **groups[i]}
            g = -g if o["maximize"] else g
            if o["weight_decay"]:
                g = g + o["weight_decay"] * params[i]
            if o["momentum"]:
                if buffers[i] is None:
                    buffers[i] = g.copy()
                else:
                    buffers[i] = o["momentum"] * buffers[i] + (1 - o["dampening"]) * g
                g = g + o["momentum"] * buffers[i] if o["nesterov"] else buffers[i]
            params[i] = params[i] - o["lr"] * g
    return params


def make_params(problem: LeastSquares, dtype="float64") -> list[nn.Parameter]:
    return [nn.Parameter(axonic.tensor(problem.w0, dtype=dtype)),
            nn.Parameter(axonic.tensor(problem.b0, dtype=dtype))]


def train(problem: LeastSquares, optimizer: optim.SGD, params, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        problem.loss(*params).backward()
        optimizer.step()


@pytest.mark.parametrize("name", CONFIGS)
def test_sgd_trajectory_matches_pytorch_formula(name):
    options = CONFIGS[name]
    problem = LeastSquares(sign=-1.0 if options.get("maximize") else 1.0)
    params = make_params(problem)
    train(problem, optim.SGD(params, **options), params, STEPS)
    expected = numpy_sgd(problem, [options, options], STEPS)
    for actual, want in zip(params, expected):
        assert_close(actual, want, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["plain", "nesterov-weight-decay"])
def test_sgd_trajectory_in_float32(name):
    options = CONFIGS[name]
    problem = LeastSquares()
    params = make_params(problem, dtype="float32")
    train(problem, optim.SGD(params, **options), params, STEPS)
    expected = numpy_sgd(problem, [options, options], STEPS)
    for actual, want in zip(params, expected):
        assert actual.dtype == np.float32
        assert_close(actual, want, rtol=1e-4, atol=1e-5)


def test_sgd_converges_on_least_squares():
    problem = LeastSquares()
    params = make_params(problem)
    train(problem, optim.SGD(params, lr=0.05, momentum=0.9), params, 300)
    solution = np.linalg.lstsq(np.c_[problem.x, np.ones(20)], problem.y, rcond=None)[0]
    assert_close(params[0], solution[:3], rtol=1e-5, atol=1e-6)
    assert_close(params[1], solution[3:], rtol=1e-5, atol=1e-6)


def test_param_groups_with_different_options():
    problem = LeastSquares()
    w, b = make_params(problem)
    group_w = dict(lr=0.1)
    group_b = dict(lr=0.01, momentum=0.5)
    optimizer = optim.SGD([{"params": [w], **group_w}, {"params": b, **group_b}], lr=0.5)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.01]
    assert optimizer.param_groups[0]["momentum"] == 0.0  # defaults fill what a group omits
    train(problem, optimizer, [w, b], STEPS)
    expected = numpy_sgd(problem, [group_w, group_b], STEPS)
    assert_close(w, expected[0], rtol=1e-9, atol=1e-11)
    assert_close(b, expected[1], rtol=1e-9, atol=1e-11)


def test_add_param_group():
    problem = LeastSquares()
    w, b = make_params(problem)
    optimizer = optim.SGD([w], lr=0.1)
    optimizer.add_param_group({"params": [b], "lr": 0.01})
    assert len(optimizer.param_groups) == 2 and optimizer.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [w]})


def test_changing_lr_between_steps_takes_effect():
    problem = LeastSquares()
    params = make_params(problem)
    optimizer = optim.SGD(params, lr=0.1)
    train(problem, optimizer, params, 5)
    for group in optimizer.param_groups:
        group["lr"] = 0.02
    train(problem, optimizer, params, 5)
    reference = numpy_sgd(problem, [dict(lr=0.1)] * 2, 5)
    start = LeastSquares()
    start.w0, start.b0 = reference
    expected = numpy_sgd(start, [dict(lr=0.02)] * 2, 5)
    assert_close(params[0], expected[0], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", ["momentum", "nesterov-weight-decay", "plain"])
def test_state_dict_resumes_exactly(name):
    options = CONFIGS[name]
    problem = LeastSquares()
    straight = make_params(problem)
    train(problem, optim.SGD(straight, **options), straight, 20)

    first = make_params(problem)
    optimizer = optim.SGD(first, **options)
    train(problem, optimizer, first, 10)
    saved = optimizer.state_dict()
    saved_values = [p.numpy().copy() for p in first]
    train(problem, optimizer, first, 3)  # the saved state must not follow later steps

    resumed = [nn.Parameter(axonic.tensor(v)) for v in saved_values]
    fresh = optim.SGD(resumed, lr=1.0)  # options come back from the state dict
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == options["lr"]
    train(problem, fresh, resumed, 10)
    for actual, want in zip(resumed, straight):
        np.testing.assert_array_equal(actual.numpy(), want.numpy())


def test_state_dict_is_positional():
    problem = LeastSquares()
    params = make_params(problem)
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
    train(problem, optimizer, params, 1)
    state = optimizer.state_dict()
    assert set(state["state"]) == {0, 1}
    assert state["param_groups"][0]["params"] == [0, 1]
    assert "momentum_buffer" in state["state"][0]


def test_load_state_dict_rejects_a_different_layout():
    problem = LeastSquares()
    w, b = make_params(problem)
    saved = optim.SGD([w, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="do not match"):
        optim.SGD([w], lr=0.1).load_state_dict(saved)


@pytest.mark.parametrize("options, message", [
    (dict(lr=-0.1), "lr"),
    (dict(lr=0.1, momentum=-0.5), "momentum"),
    (dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (dict(lr=0.1, nesterov=True), "nesterov"),
    (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
])
def test_bad_hyperparameters(options, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([nn.Parameter(axonic.zeros(2))], **options)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD(iter([]), lr=0.1)


def test_parameters_must_be_leaf_tensors():
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    p = nn.Parameter(axonic.zeros(2))
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([p * 2.0], lr=0.1)


def test_accepts_a_generator_of_parameters():
    model = nn.Linear(3, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 2


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    model = nn.Linear(3, 2)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model(axonic.randn(4, 3)).sum().backward()
    optimizer.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        assert p.grad is None if set_to_none else (p.grad.numpy() == 0).all()


def test_step_skips_parameters_without_gradients_and_records_no_graph():
    used, unused = nn.Parameter(axonic.ones(2)), nn.Parameter(axonic.ones(2))
    optimizer = optim.SGD([used, unused], lr=0.5, momentum=0.9)
    (used * 2.0).sum().backward()
    optimizer.step()
    assert_close(used, [0.0, 0.0])
    assert_close(unused, [1.0, 1.0])
    assert used.is_leaf and used.requires_grad


def test_sgd_accepts_a_zero_learning_rate():
    p = axonic.nn.Parameter(axonic.tensor([1.0, 2.0]))
    optimizer = axonic.optim.SGD([p], lr=0.0)
    p.grad = axonic.tensor([1.0, 1.0])
    optimizer.step()
    assert p.tolist() == [1.0, 2.0]
