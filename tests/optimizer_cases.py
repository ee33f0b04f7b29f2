"""The fused optimizer kernels' test cases, shared by tests/test_kernels_optimizers.py
(axonic._cpu) and tests/test_cuda_kernels_optimizers.py (axonic._cuda): one spec per
kernel, the grid of option combinations that change a formula, and the calls built
from them (params, random grads, random but valid state, per-tensor coefficients at
mixed step counts), with the tolerances a float32 / float64 kernel meets against the
float64 reference.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from conftest import assert_close

# float32: the kernel's float32 arithmetic against float64 arithmetic rounded to float32.
TOLERANCES = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


# ----- one description per kernel ---------------------------------------------------------
@dataclass(frozen=True)
class KernelSpec:
    """A kernel's state lists (name -> how to fill it) and its scalar options."""

    name: str
    states: dict
    scalars: dict
    coefficient_width: int

    def used_states(self, options: dict) -> list[str]:
        return [s for s in self.states if state_used(self.name, s, options)]


def state_used(kernel: str, state: str, options: dict) -> bool:
    if state == "momentum_buffers":
        return options["momentum"] != 0
    if state == "grad_avgs":
        return options["centered"]
    if state == "max_exp_avg_sqs":
        return options["amsgrad"]
    return True


KERNELS = {
    "sgd_update": KernelSpec(
        "sgd_update", {"momentum_buffers": "signed"},
        dict(lr=0.05, dampening=0.3), 2),
    "adagrad_update": KernelSpec(
        "adagrad_update", {"sums": "positive"}, dict(lr=0.1, lr_decay=0.01, eps=1e-10), 1),
    "rmsprop_update": KernelSpec(
        "rmsprop_update",
        {"square_avgs": "positive", "grad_avgs": "centered", "momentum_buffers": "signed"},
        dict(lr=0.01, alpha=0.9, eps=1e-8), 0),
    "adadelta_update": KernelSpec(
        "adadelta_update", {"square_avgs": "positive", "acc_deltas": "positive"},
        dict(lr=1.0, rho=0.9, eps=1e-6), 0),
    "adam_update": KernelSpec(
        "adam_update",
        {"exp_avgs": "signed", "exp_avg_sqs": "positive", "max_exp_avg_sqs": "maximum"},
        dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), 2),
    "adamax_update": KernelSpec(
        "adamax_update", {"exp_avgs": "signed", "exp_infs": "positive"},
        dict(lr=0.02, beta1=0.9, beta2=0.999, eps=1e-8), 1),
    "nadam_update": KernelSpec(
        "nadam_update", {"exp_avgs": "signed", "exp_avg_sqs": "positive"},
        dict(lr=0.02, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3), 3),
}


def option_grid() -> list[tuple[str, dict]]:
    """(kernel, options) for every combination of the options that change a formula."""
    grid = []
    flags = (False, True)
    for momentum, weight_decay, maximize in itertools.product((0.0, 0.9), (0.0, 0.01), flags):
        for nesterov in (flags if momentum else (False,)):
            grid.append(("sgd_update", dict(momentum=momentum, weight_decay=weight_decay,
                                            nesterov=nesterov, maximize=maximize)))
    for weight_decay, maximize in itertools.product((0.0, 0.01), flags):
        for kernel in ("adagrad_update", "adadelta_update", "adamax_update"):
            grid.append((kernel, dict(weight_decay=weight_decay, maximize=maximize)))
        for centered, momentum in itertools.product(flags, (0.0, 0.9)):
            grid.append(("rmsprop_update", dict(weight_decay=weight_decay, maximize=maximize,
                                                centered=centered, momentum=momentum)))
    # decoupled weight decay only differs from coupled when there is weight decay.
    decays = ((0.0, False), (0.01, False), (0.05, True))
    for (weight_decay, decoupled), maximize in itertools.product(decays, flags):
        common = dict(weight_decay=weight_decay, decoupled_weight_decay=decoupled,
                      maximize=maximize)
        grid.append(("nadam_update", common))
        for amsgrad in flags:
            grid.append(("adam_update", dict(common, amsgrad=amsgrad)))
    return grid


def grid_id(case: tuple[str, dict]) -> str:
    kernel, options = case
    parts = [kernel.replace("_update", "")]
    for key, value in options.items():
        if value is True:
            parts.append(key)
        elif value not in (False, 0, 0.0):
            parts.append(f"{key}={value}")
    return "-".join(parts)


OPTION_GRID = option_grid()


# ----- building and running calls ---------------------------------------------------------
def step_coefficients(spec: KernelSpec, options: dict, steps: np.ndarray) -> np.ndarray | None:
    """The per-tensor scalars the Python optimizer would pass at these step counts."""
    s = spec.scalars
    if spec.name == "sgd_update":
        first = steps == 1  # a buffer's first step: b = g
        columns = [np.where(first, 0.0, options["momentum"]),
                   np.where(first, 1.0, 1.0 - s["dampening"])]
    elif spec.name == "adagrad_update":
        columns = [s["lr"] / (1.0 + (steps - 1.0) * s["lr_decay"])]
    elif spec.name == "adam_update":
        columns = [s["lr"] / (1.0 - s["beta1"] ** steps), np.sqrt(1.0 - s["beta2"] ** steps)]
    elif spec.name == "adamax_update":
        columns = [s["lr"] / (1.0 - s["beta1"] ** steps)]
    elif spec.name == "nadam_update":
        columns = [[], [], []]
        for t in steps:
            mu = [s["beta1"] * (1.0 - 0.5 * 0.96 ** (k * s["momentum_decay"]))
                  for k in range(1, int(t) + 2)]
            product, product_next = np.prod(mu[:-1]), np.prod(mu)
            columns[0].append(s["lr"] * (1.0 - mu[-2]) / (1.0 - product))
            columns[1].append(s["lr"] * mu[-1] / (1.0 - product_next))
            columns[2].append(1.0 - s["beta2"] ** t)
    else:
        return None
    return np.ascontiguousarray(np.stack([np.asarray(c, dtype=np.float64) for c in columns],
                                         axis=1))


def scalar_arguments(spec: KernelSpec, options: dict) -> dict:
    s = spec.scalars
    name = spec.name
    if name == "sgd_update":
        return dict(lr=s["lr"], momentum=options["momentum"], weight_decay=options["weight_decay"],
                    nesterov=options["nesterov"], maximize=options["maximize"])
    if name == "adagrad_update":
        return dict(weight_decay=options["weight_decay"], eps=s["eps"],
                    maximize=options["maximize"])
    if name == "rmsprop_update":
        return dict(lr=s["lr"], alpha=s["alpha"], eps=s["eps"],
                    weight_decay=options["weight_decay"], momentum=options["momentum"],
                    centered=options["centered"], maximize=options["maximize"])
    if name == "adadelta_update":
        return dict(lr=s["lr"], rho=s["rho"], eps=s["eps"], weight_decay=options["weight_decay"],
                    maximize=options["maximize"])
    if name == "adam_update":
        return dict(lr=s["lr"], beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"],
                    weight_decay=options["weight_decay"],
                    decoupled_weight_decay=options["decoupled_weight_decay"],
                    amsgrad=options["amsgrad"], maximize=options["maximize"])
    if name == "adamax_update":
        return dict(beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"],
                    weight_decay=options["weight_decay"], maximize=options["maximize"])
    return dict(lr=s["lr"], beta1=s["beta1"], beta2=s["beta2"], eps=s["eps"],
                weight_decay=options["weight_decay"],
                decoupled_weight_decay=options["decoupled_weight_decay"],
                maximize=options["maximize"])


def random_states(spec: KernelSpec, options: dict, shapes, dtype, rng) -> dict:
    """Valid nonzero state: squared averages > 0, |centered average| < sqrt(square avg)
    (so the centered variance stays >= 0), the amsgrad maximum near the average."""
    states = {}
    for name in spec.states:
        states[name] = []
    for shape in shapes:
        fills = {}
        for name, kind in spec.states.items():
            if kind == "signed":
                fills[name] = rng.standard_normal(shape) * 0.5
            elif kind == "positive":
                fills[name] = rng.uniform(0.05, 2.0, shape)
            elif kind == "centered":
                fills[name] = rng.uniform(-0.9, 0.9, shape) * np.sqrt(fills["square_avgs"])
            else:  # "maximum": sometimes above, sometimes below the running average
                fills[name] = fills["exp_avg_sqs"] * rng.uniform(0.5, 1.5, shape)
        for name in spec.states:
            states[name].append(np.array(fills[name], dtype=dtype, order="C"))
    return {name: (arrays if state_used(spec.name, name, options) else [])
            for name, arrays in states.items()}


def make_call(kernel: str, options: dict, shapes, dtype, seed: int = 0) -> dict:
    """Keyword arguments of one call (params, random grads, state, coefficients)."""
    spec = KERNELS[kernel]
    rng = np.random.default_rng(seed)
    params = [np.array(rng.standard_normal(s), dtype=dtype, order="C") for s in shapes]
    grads = [np.array(rng.standard_normal(s), dtype=dtype, order="C") for s in shapes]
    call = dict(params=params, grads=grads, **random_states(spec, options, shapes, dtype, rng))
    call.update(scalar_arguments(spec, options))
    if spec.coefficient_width:
        # Tensors at different step counts (one at its first step) in one call.
        call["coefficients"] = step_coefficients(spec, options, 1.0 + np.arange(len(shapes)) % 4)
    return call


def copy_value(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def copy_call(call: dict) -> dict:
    return {k: ([copy_value(a) for a in v] if isinstance(v, list) else copy_value(v))
            for k, v in call.items()}


def arrays_written(call: dict) -> dict[str, list[np.ndarray]]:
    return {k: v for k, v in call.items() if isinstance(v, list) and k != "grads"}


def next_step(kernel: str, options: dict, calls: list[dict], step: int, rng) -> None:
    """Fresh gradients (the same in every call) and the next step's coefficients."""
    spec = KERNELS[kernel]
    grads = [rng.standard_normal(g.shape) for g in calls[0]["grads"]]
    steps = 1.0 + np.arange(len(grads)) % 4 + step
    for call in calls:
        call["grads"] = [np.array(g, dtype=c.dtype, order="C")
                         for g, c in zip(grads, call["grads"])]
        if spec.coefficient_width:
            call["coefficients"] = step_coefficients(spec, options, steps)


def assert_calls_close(actual: dict, expected: dict, dtype, what: str, **tolerance) -> None:
    tolerance = tolerance or TOLERANCES[dtype]
    for name, arrays in arrays_written(expected).items():
        assert len(actual[name]) == len(arrays)
        for i, (a, e) in enumerate(zip(actual[name], arrays)):
            assert a.dtype == dtype and a.shape == e.shape
            try:
                assert_close(a, e, **tolerance)
            except AssertionError as error:
                raise AssertionError(f"{what}: {name}[{i}] {e.shape}: {error}") from None


def full_options(kernel: str) -> dict:
    """The options that use every state list of a kernel (and its weight decay)."""
    return {
        "sgd_update": dict(momentum=0.9, weight_decay=0.01, nesterov=True, maximize=False),
        "adagrad_update": dict(weight_decay=0.01, maximize=False),
        "rmsprop_update": dict(weight_decay=0.01, maximize=False, centered=True, momentum=0.9),
        "adadelta_update": dict(weight_decay=0.01, maximize=False),
        "adam_update": dict(weight_decay=0.01, decoupled_weight_decay=False, amsgrad=True,
                            maximize=False),
        "adamax_update": dict(weight_decay=0.01, maximize=False),
        "nadam_update": dict(weight_decay=0.01, decoupled_weight_decay=False, maximize=False),
    }[kernel]
