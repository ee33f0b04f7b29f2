"""The Optimizer API of every optimizer: state_dict round trips, option checks,
parameter groups, gradient checks, closures, zero_grad, non-contiguous parameters.

Each optimizer is built with the options that create all of its state buffers, on
a small two-layer model with two parameter groups (the layers at different lrs).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import axonic
from axonic import nn, optim

NAMES = ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam")
# Options that use every state buffer (and weight decay) of each optimizer.
FULL_OPTIONS = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "Adadelta": dict(lr=1.0, rho=0.8, weight_decay=0.01),
    "Adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "AdamW": dict(lr=0.01, amsgrad=True, weight_decay=0.05),
    "Adamax": dict(lr=0.01, weight_decay=0.01),
    "NAdam": dict(lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
}
# PyTorch's state names, "step" first.
STATE_NAMES = {
    "SGD": {"step", "momentum_buffer"},
    "Adagrad": {"step", "sum"},
    "RMSprop": {"step", "square_avg", "grad_avg", "momentum_buffer"},
    "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adam": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    "AdamW": {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
    "Adamax": {"step", "exp_avg", "exp_inf"},
    "NAdam": {"step", "exp_avg", "exp_avg_sq", "mu_product"},
}


def make_model(seed: int = 0) -> nn.Sequential:
    axonic.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def make_optimizer(name: str, model: nn.Sequential, **overrides) -> optim.Optimizer:
    """Two groups: the first layer at the options' lr, the second at half of it."""
    options = {**FULL_OPTIONS[name], **overrides}
    first, second = model[0], model[2]
    return getattr(optim, name)([
        {"params": list(first.parameters())},
        {"params": list(second.parameters()), "lr": options["lr"] / 2},
    ], **options)


DATA = np.random.default_rng(7).standard_normal((16, 3)).astype(np.float32)
TARGET = np.random.default_rng(8).standard_normal((16, 2)).astype(np.float32)


def loss_of(model: nn.Module) -> axonic.Tensor:
    error = model(axonic.tensor(DATA)) - axonic.tensor(TARGET)
    return (error * error).mean()


def train(model: nn.Module, optimizer: optim.Optimizer, steps: int) -> None:
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of(model).backward()
        optimizer.step()


def values(params) -> list[np.ndarray]:
    return [p.numpy().copy() for p in params]


def steps_of(optimizer: optim.Optimizer) -> dict[int, int]:
    return {key: state["step"] for key, state in optimizer.state.items()}


def assert_state_dicts_equal(actual: dict, expected: dict) -> None:
    assert actual["param_groups"] == expected["param_groups"]
    assert set(actual["state"]) == set(expected["state"])
    for index, state in expected["state"].items():
        assert set(actual["state"][index]) == set(state), index
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(actual["state"][index][name], value,
                                              err_msg=f"{name} of parameter {index}")
            else:
                assert actual["state"][index][name] == value, (index, name)


# ----- state_dict -------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_resumes_bit_for_bit(name):
    straight = make_model()
    straight_optimizer = make_optimizer(name, straight)
    train(straight, straight_optimizer, 8)

    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 4)
    saved_optimizer, saved_model = optimizer.state_dict(), model.state_dict()

    fresh = make_model(seed=123)  # other weights, and other options to be overwritten
    fresh_optimizer = make_optimizer(name, fresh, lr=0.5, weight_decay=0.0)
    fresh.load_state_dict(saved_model)
    fresh_optimizer.load_state_dict(saved_optimizer)
    assert fresh_optimizer.param_groups[0]["lr"] == FULL_OPTIONS[name]["lr"]
    train(fresh, fresh_optimizer, 4)

    for actual, expected in zip(fresh.parameters(), straight.parameters()):
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())
    assert_state_dicts_equal(fresh_optimizer.state_dict(), straight_optimizer.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_names_and_positions(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 2)
    saved = optimizer.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert set(saved["state"]) == {0, 1, 2, 3}
    for index, p in enumerate(model.parameters()):
        state = saved["state"][index]
        assert set(state) == STATE_NAMES[name]
        assert state["step"] == 2
        for key, value in state.items():
            if key not in ("step", "mu_product"):
                assert value.shape == p.shape and value.dtype == p.dtype
        assert optimizer.state[id(p)]["step"] == 2  # keyed by id(param) inside


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_is_a_copy(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 2)
    saved = optimizer.state_dict()
    snapshot = copy.deepcopy(saved)
    train(model, optimizer, 2)
    assert_state_dicts_equal(saved, snapshot)  # later steps do not reach the saved copy
    saved["param_groups"][0]["lr"] = 123.0
    assert optimizer.param_groups[0]["lr"] == FULL_OPTIONS[name]["lr"]

    # load_state_dict copies too: editing the dict afterwards changes nothing.
    fresh = make_optimizer(name, model)
    fresh.load_state_dict(snapshot)
    loaded = copy.deepcopy(fresh.state_dict())
    for state in snapshot["state"].values():
        for value in state.values():
            if isinstance(value, np.ndarray):
                value[...] = 99.0
    snapshot["param_groups"][1]["lr"] = 99.0
    assert_state_dicts_equal(fresh.state_dict(), loaded)


def test_load_state_dict_rejects_another_layout():
    model = make_model()
    optimizer = make_optimizer("Adam", model)
    train(model, optimizer, 1)
    saved = optimizer.state_dict()

    one_group = optim.Adam(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match="do not match"):
        one_group.load_state_dict(saved)
    fewer = optim.Adam([{"params": list(model[0].parameters())},
                        {"params": [model[2].weight]}], lr=0.01)
    with pytest.raises(ValueError, match="do not match"):
        fewer.load_state_dict(saved)

    wrong_shape = copy.deepcopy(saved)
    wrong_shape["state"][2]["exp_avg_sq"] = np.zeros((2, 5), dtype=np.float32)
    fresh = make_optimizer("Adam", model)
    with pytest.raises(ValueError, match="exp_avg_sq"):
        fresh.load_state_dict(wrong_shape)
    swapped = copy.deepcopy(saved)  # the weight's state on the bias
    swapped["state"][0], swapped["state"][1] = swapped["state"][1], swapped["state"][0]
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(swapped)
    out_of_range = copy.deepcopy(saved)
    out_of_range["state"][4] = out_of_range["state"][3]
    with pytest.raises(ValueError, match="parameter 4"):
        fresh.load_state_dict(out_of_range)
    # A refused load leaves the optimizer as it was.
    assert fresh.state == {} and fresh.param_groups[1]["lr"] == FULL_OPTIONS["Adam"]["lr"] / 2


def test_load_state_dict_accepts_buffers_of_any_layout():
    # e.g. a state dict read back from a file written in Fortran order.
    model = make_model()
    optimizer = make_optimizer("Adam", model)
    train(model, optimizer, 2)
    saved = optimizer.state_dict()
    straight = copy.deepcopy(saved)
    for state in saved["state"].values():
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            state[key] = np.asfortranarray(state[key])
    twin = make_model()
    twin.load_state_dict(model.state_dict())
    resumed, reference = make_optimizer("Adam", model), make_optimizer("Adam", twin)
    resumed.load_state_dict(saved)
    reference.load_state_dict(straight)
    train(model, resumed, 1)
    train(twin, reference, 1)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ----- hyperparameter checks --------------------------------------------------------------
NAN = float("nan")
_ADAM_LIKE = [
    (dict(lr=-1e-3), "lr"), (dict(lr=NAN), "lr"), (dict(eps=-1e-8), "eps"),
    (dict(weight_decay=-0.1), "weight_decay"), (dict(betas=(1.0, 0.999)), "betas"),
    (dict(betas=(0.9, -0.1)), "betas"), (dict(betas=(0.9, 1.5)), "betas"),
    (dict(betas=(NAN, 0.999)), "betas"), (dict(betas=(0.9,)), "betas"),
    (dict(betas=(0.9, 0.99, 0.5)), "betas"), (dict(betas=0.9), "betas"),
]
BAD_OPTIONS = {
    "SGD": [(dict(lr=-0.1), "lr"), (dict(lr=NAN), "lr"), (dict(momentum=-0.5), "momentum"),
            (dict(dampening=-0.1), "dampening"), (dict(weight_decay=-1e-4), "weight_decay"),
            (dict(nesterov=True), "nesterov"),
            (dict(momentum=0.9, dampening=0.1, nesterov=True), "nesterov")],
    "Adagrad": [(dict(lr=-0.1), "lr"), (dict(lr=NAN), "lr"), (dict(lr_decay=-0.1), "lr_decay"),
                (dict(weight_decay=-0.1), "weight_decay"), (dict(eps=-1e-10), "eps"),
                (dict(initial_accumulator_value=-1.0), "initial_accumulator_value")],
    "RMSprop": [(dict(lr=-0.1), "lr"), (dict(lr=NAN), "lr"), (dict(alpha=-0.1), "alpha"),
                (dict(eps=-1e-8), "eps"), (dict(weight_decay=-0.1), "weight_decay"),
                (dict(momentum=-0.1), "momentum")],
    "Adadelta": [(dict(lr=-1.0), "lr"), (dict(lr=NAN), "lr"), (dict(rho=1.1), "rho"),
                 (dict(rho=-0.1), "rho"), (dict(rho=NAN), "rho"), (dict(eps=-1e-6), "eps"),
                 (dict(weight_decay=-0.1), "weight_decay")],
    "Adam": _ADAM_LIKE,
    "AdamW": _ADAM_LIKE,
    "Adamax": _ADAM_LIKE,
    "NAdam": _ADAM_LIKE + [(dict(momentum_decay=-4e-3), "momentum_decay")],
}
BAD_CASES = [pytest.param(name, options, message, id=f"{name}-{options}")
             for name, cases in BAD_OPTIONS.items() for options, message in cases]


@pytest.mark.parametrize("name, options, message", BAD_CASES)
def test_bad_hyperparameters_raise_naming_the_option(name, options, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([nn.Parameter(axonic.zeros(2))], **options)


@pytest.mark.parametrize("name, options, message", BAD_CASES)
def test_bad_hyperparameters_in_an_added_group(name, options, message):
    kept, added = nn.Parameter(axonic.zeros(2)), nn.Parameter(axonic.zeros(3))
    optimizer = getattr(optim, name)([kept], lr=0.01)
    with pytest.raises(ValueError, match=message):
        optimizer.add_param_group({"params": [added], **options})
    assert len(optimizer.param_groups) == 1
    optimizer.add_param_group({"params": [added]})  # the refused parameter can come later
    assert len(optimizer.param_groups) == 2


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.0, momentum=0.0, dampening=1.0)), ("Adadelta", dict(rho=0.0)),
    ("Adadelta", dict(rho=1.0)), ("Adam", dict(betas=(0.0, 0.0), eps=0.0)),
    ("AdamW", dict(betas=[0.5, 0.9])), ("NAdam", dict(momentum_decay=0.0)),
    ("RMSprop", dict(alpha=1.0)), ("Adagrad", dict(eps=0.0, lr_decay=0.0)),
])
def test_boundary_hyperparameters_are_accepted(name, options):
    getattr(optim, name)([nn.Parameter(axonic.zeros(2))], **options)


@pytest.mark.parametrize("name", NAMES)
def test_a_parameter_in_two_groups_or_twice_in_one(name):
    a, b = nn.Parameter(axonic.zeros(2)), nn.Parameter(axonic.zeros(3))
    cls = getattr(optim, name)
    with pytest.raises(ValueError, match="more than one parameter group"):
        cls([{"params": [a, b]}, {"params": [a]}])
    with pytest.raises(ValueError, match="twice"):
        cls([a, b, a])
    with pytest.raises(ValueError, match="twice"):
        cls([{"params": [b, b]}])
    optimizer = cls([a])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optimizer.add_param_group({"params": [b, a]})
    assert len(optimizer.param_groups) == 1


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_in_a_group(name):
    a, b = nn.Parameter(axonic.zeros(2)), nn.Parameter(axonic.zeros(3))
    cls = getattr(optim, name)
    with pytest.raises(ValueError, match="unknown option.*learning_rate"):
        cls([{"params": [a], "learning_rate": 0.1}])
    optimizer = cls([a])
    with pytest.raises(ValueError, match="unknown option"):
        optimizer.add_param_group({"params": [b], "lr": 0.1, "momentun": 0.9})
    with pytest.raises(TypeError):
        cls([a], learning_rate=0.1)  # a misspelt keyword argument


@pytest.mark.parametrize("name", NAMES)
def test_params_must_be_an_iterable_of_tensors(name):
    cls = getattr(optim, name)
    with pytest.raises(TypeError, match="single Tensor"):
        cls(nn.Parameter(axonic.zeros(2)))
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    with pytest.raises(ValueError, match="no parameters"):
        cls([{"params": []}])
    with pytest.raises(TypeError, match="Tensors"):
        cls([np.zeros(2)])


# ----- stepping ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad_grad", ["shape", "dtype"])
@pytest.mark.parametrize("name", NAMES)
def test_a_bad_gradient_names_the_parameter_and_changes_nothing(name, bad_grad):
    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 1)
    optimizer.zero_grad()
    loss_of(model).backward()
    before, steps, state = values(model.parameters()), steps_of(optimizer), \
        copy.deepcopy(optimizer.state_dict())
    bias = model[0].bias
    bias.grad = (axonic.zeros(5) if bad_grad == "shape"
                 else axonic.tensor(bias.grad.numpy(), dtype="float64"))
    with pytest.raises(ValueError, match="parameter 1 of parameter group 0"):
        optimizer.step()
    for p, p0 in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), p0)
    assert steps_of(optimizer) == steps
    assert_state_dicts_equal(optimizer.state_dict(), state)


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_gradient_in_a_later_group_changes_no_earlier_group(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 1)
    optimizer.zero_grad()
    loss_of(model).backward()
    before, steps = values(model.parameters()), steps_of(optimizer)
    model[2].weight.grad = axonic.zeros(3)
    with pytest.raises(ValueError, match="parameter 0 of parameter group 1"):
        optimizer.step()
    for p, p0 in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), p0)
    assert steps_of(optimizer) == steps


@pytest.mark.parametrize("name", NAMES)
def test_parameters_without_gradient_are_skipped(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    frozen = model[2].weight
    frozen_before = frozen.numpy().copy()
    for _ in range(2):
        optimizer.zero_grad()
        loss_of(model).backward()
        frozen.grad = None
        optimizer.step()
    np.testing.assert_array_equal(frozen.numpy(), frozen_before)
    assert id(frozen) not in optimizer.state
    assert set(optimizer.state_dict()["state"]) == {0, 1, 3}
    # Once it has a gradient it starts its own count.
    train(model, optimizer, 1)
    assert optimizer.state[id(frozen)]["step"] == 1
    assert optimizer.state[id(model[2].bias)]["step"] == 3


@pytest.mark.parametrize("name", NAMES)
def test_step_returns_the_closures_loss(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    calls = []

    def closure():
        optimizer.zero_grad()
        loss = loss_of(model)
        loss.backward()
        calls.append(loss.item())
        return loss

    with axonic.no_grad():  # the closure still records its graph
        returned = optimizer.step(closure)
    assert returned.item() == calls[0]
    assert optimizer.step(closure).item() == calls[1] != calls[0]
    assert optimizer.step() is None


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_zero_grad(name, set_to_none):
    model = make_model()
    optimizer = make_optimizer(name, model)
    loss_of(model).backward()
    grads = [p.grad for p in model.parameters()]
    optimizer.zero_grad(set_to_none=set_to_none)
    for p, g in zip(model.parameters(), grads):
        if set_to_none:
            assert p.grad is None
        else:
            assert p.grad is g and not p.grad.numpy().any()
    optimizer.zero_grad()  # the default sets None, as PyTorch's
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("layout", ["fortran", "transposed-view", "strided-view"])
@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_parameter_is_updated_in_place(name, layout):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((5, 3))
    storage = None
    if layout == "fortran":
        data = np.asfortranarray(start)
    elif layout == "transposed-view":
        storage = np.ascontiguousarray(start.T)
        data = storage.T
    else:
        storage = np.zeros((10, 3))
        storage[::2] = start
        data = storage[::2]
    odd = nn.Parameter(axonic.tensor(start))
    odd._data = data
    plain = nn.Parameter(axonic.tensor(start))
    optimizers = [getattr(optim, name)([p], **FULL_OPTIONS[name]) for p in (odd, plain)]
    for step in range(3):
        grad = rng.standard_normal((5, 3))
        for p, optimizer in zip((odd, plain), optimizers):
            p.grad = axonic.tensor(grad)
            optimizer.step()
        assert odd._data is data and not data.flags.c_contiguous, step
        np.testing.assert_array_equal(odd.numpy(), plain.numpy())
    assert not np.array_equal(data, start)
    if storage is not None:  # the update went through the view into its storage
        np.testing.assert_array_equal(storage.T if layout == "transposed-view" else storage[::2],
                                      plain.numpy())
    if layout == "strided-view":
        assert not storage[1::2].any()


@pytest.mark.parametrize("name", NAMES)
def test_frozen_group_with_zero_lr_does_not_move(name):
    # Transfer learning: the pretrained layer at lr=0 (even with weight decay) stays put.
    model = make_model()
    options = {**FULL_OPTIONS[name], "weight_decay": 0.1}
    optimizer = getattr(optim, name)([
        {"params": list(model[0].parameters()), "lr": 0.0},
        {"params": list(model[2].parameters())},
    ], **options)
    frozen, trained = values(model[0].parameters()), values(model[2].parameters())
    train(model, optimizer, 5)
    for p, p0 in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(p.numpy(), p0)
    for p, p0 in zip(model[2].parameters(), trained):
        assert not np.array_equal(p.numpy(), p0)
    # Unfreezing later (lr set in the group, as a scheduler would) moves it.
    optimizer.param_groups[0]["lr"] = options["lr"]
    train(model, optimizer, 1)
    assert not np.array_equal(model[0].weight.numpy(), frozen[0])


@pytest.mark.parametrize("name", NAMES)
def test_repr_lists_groups_and_options(name):
    model = make_model()
    text = repr(make_optimizer(name, model))
    lr = FULL_OPTIONS[name]["lr"]
    assert text.startswith(f"{name} (")
    assert f"group 0: 2 params, lr={lr}" in text and f"group 1: 2 params, lr={lr / 2}" in text
    for key in FULL_OPTIONS[name]:
        assert f"{key}=" in text


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_keep_their_dtype_and_state_dtype(name):
    model = make_model()
    optimizer = make_optimizer(name, model)
    train(model, optimizer, 2)
    for p in model.parameters():
        assert p.dtype == np.float32
        for key, value in optimizer.state[id(p)].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
    assert math.isfinite(loss_of(model).item())


@pytest.mark.parametrize("name", NAMES)
def test_scalar_parameter(name):
    # A 0-d parameter (a learnable temperature, say) steps like a 1-element one.
    scalar = nn.Parameter(axonic.tensor(np.array(1.5, dtype=np.float32)))
    vector = nn.Parameter(axonic.tensor([1.5]))
    optimizers = [getattr(optim, name)([p], **FULL_OPTIONS[name]) for p in (scalar, vector)]
    for grad in (0.3, -0.2, 0.7):
        scalar.grad = axonic.tensor(np.array(grad, dtype=np.float32))
        vector.grad = axonic.tensor([grad])
        for optimizer in optimizers:
            optimizer.step()
    assert scalar.shape == ()
    assert scalar.item() == vector.item() != 1.5


@pytest.mark.parametrize("name", NAMES)
def test_a_group_mixing_float32_and_float64_parameters(name):
    # PyTorch steps each parameter at its own dtype; so does each of these twins.
    start = np.array([0.5, -1.0, 2.0])
    mixed = [nn.Parameter(axonic.tensor(start, dtype=d)) for d in ("float32", "float64")]
    alone = [nn.Parameter(axonic.tensor(start, dtype=d)) for d in ("float32", "float64")]
    together = getattr(optim, name)(mixed, **FULL_OPTIONS[name])
    separate = [getattr(optim, name)([p], **FULL_OPTIONS[name]) for p in alone]
    for grad in ([0.1, 0.2, -0.3], [0.3, -0.1, 0.2]):
        for p in mixed + alone:
            p.grad = axonic.tensor(grad, dtype=p.dtype)
        together.step()
        for optimizer in separate:
            optimizer.step()
    for a, b in zip(mixed, alone):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
