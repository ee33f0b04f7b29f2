"""Every optimizer's 50-step trajectory against PyTorch's documented algorithm.

The oracle is a NumPy float64 transcription of the torch.optim docs (the
"Algorithm" box of each optimizer, in the order of operations of torch's
single-tensor code: maximize negates the gradient first, and AMSGrad keeps the
maximum of the raw second moment). The problem is a small linear regression whose
gradient is computed in NumPy, so each test covers the optimizer alone, for every
option combination, with and without weight decay, maximize for some, in float64
and float32, and with two parameter groups. Where torch is installed the same runs
are compared with torch.optim itself in float64; one test per optimizer goes
end to end through nn.Linear and autograd.
"""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.backends import use_reference_kernels
from conftest import assert_close

STEPS = 50
NAMES = ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam")

# torch.optim's defaults (maximize is keyword-only everywhere).
BETAS = (0.9, 0.999)
DEFAULTS = {
    "SGD": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10),
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False),
    "Adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0),
    "Adam": dict(lr=1e-3, betas=BETAS, eps=1e-8, weight_decay=0.0, amsgrad=False),
    "AdamW": dict(lr=1e-3, betas=BETAS, eps=1e-8, weight_decay=1e-2, amsgrad=False),
    "Adamax": dict(lr=2e-3, betas=BETAS, eps=1e-8, weight_decay=0.0),
    "NAdam": dict(lr=2e-3, betas=BETAS, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                  decoupled_weight_decay=False),
}

# Every option of the issue, alone and combined; each also runs with weight decay.
OPTION_SETS = {
    "SGD": [dict(lr=0.05), dict(lr=0.05, momentum=0.9),
            dict(lr=0.05, momentum=0.9, dampening=0.5),
            dict(lr=0.2, momentum=0.9, dampening=0.9),
            dict(lr=0.05, momentum=0.9, nesterov=True)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.05),
                dict(lr=0.1, initial_accumulator_value=0.5), dict(lr=0.1, eps=1e-2),
                dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-4)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, alpha=0.9), dict(lr=0.01, eps=1e-2),
                dict(lr=0.005, momentum=0.9), dict(lr=0.01, centered=True),
                dict(lr=0.005, alpha=0.95, eps=1e-6, momentum=0.5, centered=True)],
    "Adadelta": [dict(), dict(rho=0.5), dict(rho=1.0), dict(eps=1e-3), dict(lr=0.5),
                 dict(lr=2.0, rho=0.95, eps=1e-4)],
    "Adam": [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.9)), dict(lr=0.05, eps=1e-2),
             dict(lr=0.05, amsgrad=True), dict(lr=0.05, betas=(0.5, 0.99), eps=1e-6,
                                                amsgrad=True)],
    "AdamW": [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.9)), dict(lr=0.05, eps=1e-2),
              dict(lr=0.05, amsgrad=True), dict(lr=0.05, betas=(0.5, 0.99), eps=1e-6,
                                                 amsgrad=True)],
    "Adamax": [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.9)), dict(lr=0.05, eps=1e-2),
               dict(lr=0.05, betas=(0.5, 0.99))],
    "NAdam": [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.99)), dict(lr=0.05, eps=1e-2),
              dict(lr=0.05, momentum_decay=0.05), dict(lr=0.05, decoupled_weight_decay=True),
              dict(lr=0.05, betas=(0.85, 0.99), eps=1e-6, momentum_decay=1e-2,
                   decoupled_weight_decay=True)],
}
# AdamW decays by default (1e-2): "without" is an explicit 0, "with" both the default
# and a larger value.
DECAYS = {name: [dict(), dict(weight_decay=0.05)] for name in NAMES}
DECAYS["AdamW"] = [dict(weight_decay=0.0), dict(), dict(weight_decay=0.1)]


def _id(options: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items()).replace(" ", "") or "defaults"


def _configs() -> list:
    configs = []
    for name in NAMES:
        for options in OPTION_SETS[name]:
            for decay in DECAYS[name]:
                full = {**options, **decay}
                configs.append(pytest.param(name, full, id=f"{name}-{_id(full)}"))
        # maximize with weight decay, on the richest option set.
        full = {**OPTION_SETS[name][-1], "weight_decay": 0.02, "maximize": True}
        configs.append(pytest.param(name, full, id=f"{name}-{_id(full)}"))
    return configs


CONFIGS = _configs()
RICHEST = {name: {**OPTION_SETS[name][-1], "weight_decay": 0.02} for name in NAMES}


# ----- the problem ------------------------------------------------------------------------
class Regression:
    """loss(W, b) = sign * mean((x W^T + b - y)^2), W (3, 4), b (3,); sign -1 for maximize
    (ascent on the negated loss converges like descent)."""

    def __init__(self, sign: float = 1.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((24, 4))
        true_w, true_b = rng.standard_normal((3, 4)), rng.standard_normal(3)
        self.y = self.x @ true_w.T + true_b + 0.1 * rng.standard_normal((24, 3))
        self.sign = sign
        self.w0, self.b0 = rng.standard_normal((3, 4)), rng.standard_normal(3)

    def grads(self, w: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
        w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
        residual = self.x @ w.T + b - self.y
        scale = self.sign * 2.0 / residual.size
        return [scale * residual.T @ self.x, scale * residual.sum(axis=0)]

    def loss(self, model: nn.Module) -> axonic.Tensor:
        x = axonic.tensor(self.x, dtype=model.weight.dtype)
        error = model(x) - axonic.tensor(self.y, dtype=model.weight.dtype)
        return (error * error).mean() * self.sign


def _problem(options: dict) -> Regression:
    return Regression(sign=-1.0 if options.get("maximize") else 1.0)


# ----- NumPy float64 transcription of the torch.optim algorithms --------------------------
# Each maps (param, gradient, state, options, step t >= 1) to the new param, after the
# caller has negated the gradient for maximize.
def _sgd(p, g, s, o, t):
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    if o["momentum"] != 0:
        s["b"] = g.copy() if t == 1 else o["momentum"] * s["b"] + (1 - o["dampening"]) * g
        g = g + o["momentum"] * s["b"] if o["nesterov"] else s["b"]
    return p - o["lr"] * g


def _adagrad(p, g, s, o, t):
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    clr = o["lr"] / (1 + (t - 1) * o["lr_decay"])
    s["sum"] = s.get("sum", np.full_like(p, o["initial_accumulator_value"])) + g * g
    return p - clr * g / (np.sqrt(s["sum"]) + o["eps"])


def _rmsprop(p, g, s, o, t):
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    alpha = o["alpha"]
    s["v"] = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
    v = s["v"]
    if o["centered"]:
        s["g_ave"] = alpha * s.get("g_ave", 0.0) + (1 - alpha) * g
        v = v - s["g_ave"] ** 2
    if o["momentum"] > 0:
        s["b"] = o["momentum"] * s.get("b", 0.0) + g / (np.sqrt(v) + o["eps"])
        return p - o["lr"] * s["b"]
    return p - o["lr"] * g / (np.sqrt(v) + o["eps"])


def _adadelta(p, g, s, o, t):
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    rho, eps = o["rho"], o["eps"]
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    delta = np.sqrt(s.get("u", 0.0) + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = rho * s.get("u", 0.0) + (1 - rho) * delta * delta
    return p - o["lr"] * delta


def _adam(p, g, s, o, t, decoupled=False):
    (beta1, beta2), lr = o["betas"], o["lr"]
    if o["weight_decay"] != 0:
        if decoupled:
            p = p - lr * o["weight_decay"] * p
        else:
            g = g + o["weight_decay"] * p
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = s["m"] / (1 - beta1 ** t)
    if o["amsgrad"]:
        s["v_max"] = np.maximum(s.get("v_max", 0.0), s["v"])
        v_hat = s["v_max"] / (1 - beta2 ** t)
    else:
        v_hat = s["v"] / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + o["eps"])


def _adamw(p, g, s, o, t):
    return _adam(p, g, s, o, t, decoupled=True)


def _adamax(p, g, s, o, t):
    beta1, beta2 = o["betas"]
    if o["weight_decay"] != 0:
        g = g + o["weight_decay"] * p
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["u"] = np.maximum(beta2 * s.get("u", 0.0), np.abs(g) + o["eps"])
    return p - o["lr"] * s["m"] / ((1 - beta1 ** t) * s["u"])


def _nadam(p, g, s, o, t):
    (beta1, beta2), lr, psi = o["betas"], o["lr"], o["momentum_decay"]
    if o["weight_decay"] != 0:
        if o["decoupled_weight_decay"]:
            p = p - lr * o["weight_decay"] * p
        else:
            g = g + o["weight_decay"] * p
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    s["mu_product"] = s.get("mu_product", 1.0) * mu
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = (mu_next * s["m"] / (1 - s["mu_product"] * mu_next)
             + (1 - mu) * g / (1 - s["mu_product"]))
    v_hat = s["v"] / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + o["eps"])


NUMPY_STEPS = {"SGD": _sgd, "Adagrad": _adagrad, "RMSprop": _rmsprop, "Adadelta": _adadelta,
               "Adam": _adam, "AdamW": _adamw, "Adamax": _adamax, "NAdam": _nadam}


def numpy_trajectory(problem: Regression, name: str, options: list[dict],
                     steps: int = STEPS) -> list[np.ndarray]:
    """The float64 oracle; options[i] are the options of parameter i ([W, b])."""
    params = [problem.w0.copy(), problem.b0.copy()]
    states: list[dict] = [{}, {}]
    for t in range(1, steps + 1):
        for i, g in enumerate(problem.grads(*params)):
            o = {**DEFAULTS[name], "maximize": False, **options[i]}
            g = -g if o["maximize"] else g
            params[i] = NUMPY_STEPS[name](params[i], g, states[i], o, t)
    return params


# ----- the runs under test ----------------------------------------------------------------
def _groups(params: list, options: list[dict]) -> list[dict]:
    return [{"params": [p], **o} for p, o in zip(params, options)]


def axonic_trajectory(problem: Regression, name: str, options: list[dict], dtype,
                      steps: int = STEPS) -> list[np.ndarray]:
    params = [nn.Parameter(axonic.tensor(problem.w0, dtype=dtype)),
              nn.Parameter(axonic.tensor(problem.b0, dtype=dtype))]
    cls = getattr(optim, name)
    if options[0] == options[1]:
        optimizer = cls(params, **options[0])
    else:
        optimizer = cls(_groups(params, options))
    for _ in range(steps):
        optimizer.zero_grad()
        for p, g in zip(params, problem.grads(*[q.numpy() for q in params])):
            p.grad = axonic.tensor(g, dtype=dtype)
        optimizer.step()
    assert all(p.dtype == dtype for p in params)
    return [p.numpy() for p in params]


def torch_trajectory(torch, problem: Regression, name: str, options: list[dict],
                     steps: int = STEPS) -> list[np.ndarray]:
    params = [torch.tensor(problem.w0, dtype=torch.float64, requires_grad=True),
              torch.tensor(problem.b0, dtype=torch.float64, requires_grad=True)]
    # torch's Adagrad fills its sums from the constructor's initial_accumulator_value
    # (not the group's), so options shared by both groups also go to the constructor.
    shared = {k: v for k, v in options[0].items() if options[1].get(k, not v) == v}
    optimizer = getattr(torch.optim, name)(_groups(params, options), **shared)
    for _ in range(steps):
        with torch.no_grad():
            grads = problem.grads(*[p.numpy() for p in params])
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g)
        optimizer.step()
    return [p.detach().numpy().copy() for p in params]


@pytest.fixture
def torch():
    """torch with float64 as the default dtype: its scalar state (NAdam's mu_product)
    is then float64 like everyone else's."""
    torch = pytest.importorskip("torch")
    original = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(original)


@pytest.fixture
def reference_kernels():
    use_reference_kernels(True)
    yield
    use_reference_kernels(False)


# float64: the kernels round differently from NumPy (fused multiply-adds, lerp), a
# few ulps per step; float32: its rounding over 50 steps.
FLOAT64_TOLERANCE = dict(rtol=1e-9, atol=1e-11)
FLOAT32_TOLERANCE = dict(rtol=1e-5, atol=1e-6)


# ----- tests ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", CONFIGS)
def test_float64_trajectory_matches_numpy(name, options):
    problem = _problem(options)
    actual = axonic_trajectory(problem, name, [options, options], np.float64)
    expected = numpy_trajectory(problem, name, [options, options])
    for a, e in zip(actual, expected):
        assert_close(a, e, **FLOAT64_TOLERANCE)


@pytest.mark.parametrize("name, options", CONFIGS)
def test_float32_trajectory_matches_numpy(name, options):
    problem = _problem(options)
    actual = axonic_trajectory(problem, name, [options, options], np.float32)
    expected = numpy_trajectory(problem, name, [options, options])
    for a, e in zip(actual, expected):
        assert_close(a, e, **FLOAT32_TOLERANCE)


@pytest.mark.parametrize("name, options", CONFIGS)
def test_float64_trajectory_matches_torch(torch, name, options):
    problem = _problem(options)
    actual = axonic_trajectory(problem, name, [options, options], np.float64)
    expected = torch_trajectory(torch, problem, name, [options, options])
    for a, e in zip(actual, expected):
        assert_close(a, e, rtol=1e-10, atol=1e-12)


def _two_groups(name: str) -> list[dict]:
    """The richest options for W; b at a third of the lr (other options shared)."""
    first = RICHEST[name]
    return [first, {**first, "lr": first.get("lr", DEFAULTS[name]["lr"]) / 3}]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_two_parameter_groups_with_different_lr(name, dtype):
    problem = Regression()
    options = _two_groups(name)
    actual = axonic_trajectory(problem, name, options, dtype)
    expected = numpy_trajectory(problem, name, options)
    tolerance = FLOAT64_TOLERANCE if dtype == np.float64 else FLOAT32_TOLERANCE
    for a, e in zip(actual, expected):
        assert_close(a, e, **tolerance)
    # The groups' lrs matter: the same run with one lr for both differs.
    same = numpy_trajectory(problem, name, [options[0], options[0]])
    assert not np.allclose(same[1], expected[1], rtol=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_two_parameter_groups_match_torch(torch, name):
    problem = Regression()
    options = _two_groups(name)
    actual = axonic_trajectory(problem, name, options, np.float64)
    expected = torch_trajectory(torch, problem, name, options)
    for a, e in zip(actual, expected):
        assert_close(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_pytorchs(name):
    optimizer = getattr(optim, name)([nn.Parameter(axonic.zeros(2))])
    group = optimizer.param_groups[0]
    for key, value in {**DEFAULTS[name], "maximize": False}.items():
        assert group[key] == value, key


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(torch, name):
    torch_group = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
    for key, value in {**DEFAULTS[name], "maximize": False}.items():
        assert torch_group[key] == value, key


@pytest.mark.parametrize("name", NAMES)
def test_default_options_trajectory(name):
    problem = Regression()
    actual = axonic_trajectory(problem, name, [{}, {}], np.float64)
    expected = numpy_trajectory(problem, name, [{}, {}])
    for a, e in zip(actual, expected):
        assert_close(a, e, **FLOAT64_TOLERANCE)


@pytest.mark.parametrize("name", NAMES)
def test_end_to_end_with_linear_and_autograd(name):
    options = RICHEST[name]
    problem = Regression()
    model = nn.Linear(4, 3, dtype=np.float64)
    model.weight._data[...] = problem.w0
    model.bias._data[...] = problem.b0
    optimizer = getattr(optim, name)(model.parameters(), **options)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = problem.loss(model)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    expected = numpy_trajectory(problem, name, [options, options])
    # Autograd sums in another order than the NumPy gradient: a few ulps per step.
    assert_close(model.weight, expected[0], rtol=1e-8, atol=1e-10)
    assert_close(model.bias, expected[1], rtol=1e-8, atol=1e-10)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_reference_kernels_give_the_same_trajectory(name, dtype, reference_kernels):
    problem = Regression()
    options = [RICHEST[name], RICHEST[name]]
    on_reference = axonic_trajectory(problem, name, options, dtype)
    use_reference_kernels(False)
    native = axonic_trajectory(problem, name, options, dtype)
    tolerance = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else FLOAT32_TOLERANCE
    for a, e in zip(native, on_reference):
        assert_close(a, e, **tolerance)
