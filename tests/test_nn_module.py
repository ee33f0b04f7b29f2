"""nn.Module registration and state, Sequential, Linear, activation modules and nn.init."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.nn import init
from conftest import assert_close


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.head = nn.Sequential(nn.Linear(4, 2), nn.Sigmoid())
        self.scale = nn.Parameter(axonic.ones(1))
        self.note = "not a parameter"
        self.constant = axonic.ones(2)  # a plain Tensor is not registered

    def forward(self, x):
        return self.head(self.act(self.encoder(x))) * self.scale


# ----- registration ---------------------------------------------------------------------------

def test_named_parameters_have_dotted_names_in_registration_order():
    names = [name for name, _ in TwoLayer().named_parameters()]
    assert names == ["scale", "encoder.weight", "encoder.bias", "head.0.weight", "head.0.bias"]


def test_parameters_and_counts():
    model = TwoLayer()
    params = list(model.parameters())
    assert len(params) == 5 and all(isinstance(p, nn.Parameter) for p in params)
    assert all(p.requires_grad for p in params)
    assert model.num_parameters() == 1 + (3 * 4 + 4) + (4 * 2 + 2)


def test_children_and_modules():
    model = TwoLayer()
    assert [name for name, _ in model.named_children()] == ["encoder", "act", "head"]
    assert list(model.children()) == [model.encoder, model.act, model.head]
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "encoder", "act", "head", "head.0", "head.1"]
    assert list(model.modules())[0] is model


def test_shared_parameter_is_counted_once():
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight
    model = nn.Sequential(first, second)
    params = list(model.parameters())
    assert len(params) == 3
    assert sum(p is first.weight for p in params) == 1
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.bias"]


def test_shared_parameter_gets_the_sum_of_both_gradients():
    layer = nn.Linear(2, 2, bias=False, dtype="float64")
    model = nn.Sequential(layer, layer)
    x = axonic.tensor(np.array([[1.0, 2.0]]))
    model(x).sum().backward()
    w = layer.weight.numpy()
    # y = x W^T W^T: W is used twice, so its gradient has two terms (checked numerically)
    eps, numeric = 1e-6, np.zeros_like(w)
    for i in np.ndindex(w.shape):
        plus, minus = w.copy(), w.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric[i] = ((x.numpy() @ plus.T @ plus.T).sum()
                      - (x.numpy() @ minus.T @ minus.T).sum()) / (2 * eps)
    assert_close(layer.weight.grad, numeric, rtol=1e-6, atol=1e-8)


def test_plain_attributes_are_not_registered():
    model = TwoLayer()
    assert model.note == "not a parameter"
    assert "constant" not in dict(model.named_parameters())
    assert "constant" not in model.state_dict()


def test_reassigning_an_attribute_moves_it_between_tables():
    layer = nn.Linear(2, 3)
    layer.bias = None
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer.bias = nn.Parameter(axonic.zeros(3))
    assert isinstance(layer.bias, nn.Parameter)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.weight = "plain"
    assert layer.weight == "plain"
    assert [n for n, _ in layer.named_parameters()] == ["bias"]


def test_replacing_a_child_module():
    model = TwoLayer()
    model.act = nn.Tanh()
    assert isinstance(model.act, nn.Tanh)
    assert [type(m).__name__ for m in model.children()] == ["Linear", "Tanh", "Sequential"]
    del model.act
    assert [name for name, _ in model.named_children()] == ["encoder", "head"]
    with pytest.raises(AttributeError, match="act"):
        model.act  # noqa: B018


def test_buffers_are_saved_but_not_trained():
    model = nn.Linear(2, 2)
    model.register_buffer("running_mean", axonic.zeros(2))
    assert "running_mean" not in dict(model.named_parameters())
    assert "running_mean" in model.state_dict()
    assert model.running_mean.shape == (2,)
    model.running_mean = axonic.ones(2)  # assigning a tensor updates the buffer
    assert_close(model.state_dict()["running_mean"], [1.0, 1.0])
    assert_close(model.running_mean, [1.0, 1.0])
    model.running_mean = "gone"  # anything else replaces it with a plain attribute
    assert "running_mean" not in model.state_dict()


def test_missing_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(axonic.zeros(1))


def test_unknown_attribute_error_names_it():
    with pytest.raises(AttributeError, match="missing"):
        nn.Linear(2, 2).missing  # noqa: B018


# ----- modes and gradients --------------------------------------------------------------------

def test_train_and_eval_propagate():
    model = TwoLayer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.head.eval()
    assert model.training and not model.head[0].training


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    model = TwoLayer()
    model(axonic.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=set_to_none)
    for p in model.parameters():
        if set_to_none:
            assert p.grad is None
        else:
            assert (p.grad.numpy() == 0).all()


def test_requires_grad_false_freezes():
    model = TwoLayer()
    model.encoder.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 1 + 4 * 2 + 2
    model(axonic.randn(5, 3)).sum().backward()
    assert model.encoder.weight.grad is None and model.encoder.bias.grad is None
    assert model.head[0].weight.grad is not None
    model.requires_grad_(True)
    assert model.num_parameters(trainable_only=True) == model.num_parameters()


def test_double_and_float_convert_parameters():
    model = TwoLayer()
    assert model.double() is model
    assert all(p.dtype == np.float64 for p in model.parameters())
    out = model(axonic.randn(2, 3, dtype="float64"))
    assert out.dtype == np.float64
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to("float64")
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.to("cpu") is model


# ----- state_dict -----------------------------------------------------------------------------

def test_state_dict_round_trip():
    axonic.manual_seed(0)
    source = TwoLayer()
    state = source.state_dict()
    assert list(state) == [n for n, _ in source.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    target = TwoLayer()
    assert not np.allclose(target.encoder.weight.numpy(), source.encoder.weight.numpy())
    missing, unexpected = target.load_state_dict(state)
    assert missing == [] and unexpected == []
    x = axonic.randn(4, 3)
    assert_close(target(x), source(x))


def test_state_dict_holds_copies():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    state["weight"][...] = 42.0
    assert not (model.weight.numpy() == 42.0).any()
    model.load_state_dict(state)
    state["weight"][...] = 0.0
    assert (model.weight.numpy() == 42.0).all()


def test_load_state_dict_accepts_tensors():
    model = nn.Linear(2, 2)
    model.load_state_dict({"weight": axonic.ones(2, 2), "bias": axonic.zeros(2)})
    assert (model.weight.numpy() == 1.0).all()


def test_load_state_dict_strict_missing_key():
    state = nn.Linear(2, 2).state_dict()
    del state["bias"]
    with pytest.raises(KeyError, match="missing keys \\['bias'\\]"):
        nn.Linear(2, 2).load_state_dict(state)


def test_load_state_dict_strict_unexpected_key():
    state = nn.Linear(2, 2).state_dict()
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match="unexpected keys \\['extra'\\]"):
        nn.Linear(2, 2).load_state_dict(state)


def test_load_state_dict_not_strict_reports_keys():
    state = nn.Linear(2, 2).state_dict()
    del state["bias"]
    state["extra"] = np.zeros(1)
    model = nn.Linear(2, 2)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["bias"] and unexpected == ["extra"]
    assert_close(model.weight, state["weight"])


def test_load_state_dict_shape_mismatch():
    state = nn.Linear(2, 3).state_dict()
    with pytest.raises(ValueError, match=r"weight has shape \(2, 2\) in the model but \(3, 2\)"):
        nn.Linear(2, 2).load_state_dict(state)


# ----- Sequential -----------------------------------------------------------------------------

def test_sequential_repr():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)),
                          nn.LeakyReLU(0.2))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=True)\n"
        "  )\n"
        "  (3): LeakyReLU(negative_slope=0.2)\n"
        ")"
    )


def test_sequential_indexing_len_iteration_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    extra = nn.Sigmoid()
    assert model.append(extra) is model
    assert len(model) == 4 and model[3] is extra
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    out = model(axonic.randn(5, 2))
    assert out.shape == (5, 1) and ((out.numpy() > 0) & (out.numpy() < 1)).all()


def test_sequential_from_ordered_dict():
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert [n for n, _ in model.named_children()] == ["hidden", "act"]
    assert model.hidden is model[0]
    assert "hidden.weight" in model.state_dict()


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Modules"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    with pytest.raises(TypeError, match="Modules"):
        nn.Sequential().append("relu")


def test_sequential_equals_manual_composition():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    x = axonic.randn(6, 3)
    assert_close(nn.Sequential(first, nn.Tanh(), second)(x), second(first(x).tanh()))


# ----- Linear ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 5, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_output_shape_and_values(shape, bias):
    layer = nn.Linear(3, 4, bias=bias)
    x = axonic.randn(*shape)
    y = layer(x)
    assert y.shape == shape[:-1] + (4,) and y.dtype == np.float32
    expected = x.numpy().astype(np.float64) @ layer.weight.numpy().T.astype(np.float64)
    if bias:
        expected = expected + layer.bias.numpy()
    assert_close(y, expected)
    assert (layer.bias is None) == (not bias)


def test_linear_backward_fills_every_parameter():
    layer = nn.Linear(3, 2)
    layer(axonic.randn(4, 3)).sum().backward()
    assert layer.weight.grad.shape == (2, 3) and layer.bias.grad.shape == (2,)
    assert_close(layer.bias.grad, [4.0, 4.0])


def test_linear_uses_tensors_assigned_in_place_of_its_parameters():
    """A plain tensor set as .weight (weight tying, a frozen copy) is an ordinary
    attribute, not a Parameter; forward must still read it."""
    layer = nn.Linear(3, 2)
    tied = axonic.randn(2, 3)
    layer.weight = tied
    layer.bias = None
    x = axonic.randn(4, 3)
    assert "weight" not in dict(layer.named_parameters())
    assert_close(layer(x), x.numpy() @ tied.numpy().T)


def test_linear_dtype_mismatch_is_explained():
    with pytest.raises(TypeError, match=r"input is float64 but the layer's weights are float32"):
        nn.Linear(3, 2)(axonic.randn(4, 3, dtype="float64"))
    with pytest.raises(TypeError, match="Tensor"):
        nn.Linear(3, 2)(np.zeros((4, 3), np.float32))


def test_linear_wrong_feature_count():
    with pytest.raises(ValueError, match="expected"):
        nn.Linear(3, 2)(axonic.randn(4, 5))


@pytest.mark.parametrize("sizes", [(0, 3), (3, 0), (-1, 2), (2.0, 3)])
def test_linear_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="positive integer"):
        nn.Linear(*sizes)


def test_linear_dtype_argument_and_repr():
    layer = nn.Linear(3, 2, dtype="float64")
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=True)"
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(in_features=3, out_features=2, bias=False)"


def test_linear_default_init_bounds():
    axonic.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1.0 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound / math.sqrt(3)


def test_identity():
    x = axonic.randn(2, 2)
    assert nn.Identity()(x) is x


# ----- init -----------------------------------------------------------------------------------

# Non-square so swapped fans would show: fan_in = 800, fan_out = 200.
INIT_SHAPE = (200, 800)


def _init(fn, *args, shape=INIT_SHAPE, **kwargs) -> np.ndarray:
    axonic.manual_seed(0)
    t = axonic.zeros(*shape)
    assert fn(t, *args, **kwargs) is t
    return t.numpy().astype(np.float64)


def _assert_uniform(values: np.ndarray, bound: float) -> None:
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.01 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.03 * bound / math.sqrt(3)


def _assert_normal(values: np.ndarray, std: float) -> None:
    assert abs(values.mean()) < 0.01 * std
    assert abs(values.std() - std) < 0.03 * std


def test_xavier_uniform():
    _assert_uniform(_init(init.xavier_uniform_), math.sqrt(6.0 / 1000))
    _assert_uniform(_init(init.xavier_uniform_, gain=2.0), 2.0 * math.sqrt(6.0 / 1000))


def test_xavier_normal():
    _assert_normal(_init(init.xavier_normal_), math.sqrt(2.0 / 1000))
    _assert_normal(_init(init.xavier_normal_, gain=0.5), 0.5 * math.sqrt(2.0 / 1000))


@pytest.mark.parametrize("mode, fan", [("fan_in", 800), ("fan_out", 200)])
def test_kaiming_uniform(mode, fan):
    _assert_uniform(_init(init.kaiming_uniform_, mode=mode, nonlinearity="relu"),
                    math.sqrt(2.0) * math.sqrt(3.0 / fan))
    # default: leaky_relu with a = 0, i.e. the relu gain
    _assert_uniform(_init(init.kaiming_uniform_, mode=mode), math.sqrt(6.0 / fan))
    _assert_uniform(_init(init.kaiming_uniform_, a=math.sqrt(5), mode=mode),
                    1.0 / math.sqrt(fan))


@pytest.mark.parametrize("mode, fan", [("fan_in", 800), ("fan_out", 200)])
def test_kaiming_normal(mode, fan):
    _assert_normal(_init(init.kaiming_normal_, mode=mode, nonlinearity="relu"),
                   math.sqrt(2.0 / fan))
    _assert_normal(_init(init.kaiming_normal_, mode=mode, nonlinearity="tanh"),
                   (5.0 / 3) / math.sqrt(fan))


def test_kaiming_rejects_bad_mode():
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_normal_(axonic.zeros(3, 3), mode="fan_avg")


def test_uniform_and_normal():
    values = _init(init.uniform_, -2.0, 3.0)
    assert values.min() >= -2.0 and values.max() <= 3.0 and abs(values.mean() - 0.5) < 0.02
    values = _init(init.normal_, 1.0, 0.5)
    assert abs(values.mean() - 1.0) < 0.01 and abs(values.std() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constant_fills(dtype):
    t = axonic.randn(3, 4, dtype=dtype)
    assert init.zeros_(t) is t and (t.numpy() == 0).all()
    assert init.ones_(t) is t and (t.numpy() == 1).all()
    assert init.constant_(t, 0.25) is t and (t.numpy() == 0.25).all()
    assert t.dtype == dtype


def test_init_keeps_dtype_and_works_on_parameters():
    layer = nn.Linear(4, 3, dtype="float64")
    init.xavier_uniform_(layer.weight)
    assert layer.weight.dtype == np.float64 and layer.weight.requires_grad


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5.0 / 3),
    ("relu", None, math.sqrt(2.0)),
    ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2.0 / (1 + 0.2**2))),
    ("leaky_relu", 0, math.sqrt(2.0)),
    ("conv2d", None, 1.0),
    ("conv1d", None, 1.0),
    ("conv_transpose2d", None, 1.0),
])
def test_calculate_gain(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        init.calculate_gain("swishy")


def test_fans_of_a_conv_weight():
    weight = axonic.zeros(16, 8, 3, 5)
    assert init.fan_in_and_fan_out(weight) == (8 * 15, 16 * 15)
    values = _init(init.kaiming_normal_, shape=(64, 32, 5, 5), nonlinearity="relu")
    _assert_normal(values, math.sqrt(2.0 / (32 * 25)))
    assert init.fan_in_and_fan_out(axonic.zeros(4, 6)) == (6, 4)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(axonic.zeros(5))


# ----- activation modules ---------------------------------------------------------------------

ACTIVATION_MODULES = [
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.ReLU(), F.relu),
    (nn.LeakyReLU(), F.leaky_relu),
    (nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3)),
    (nn.ELU(), F.elu),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.SELU(), F.selu),
    (nn.GELU(), F.gelu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    (nn.SiLU(), F.silu),
    (nn.Softmax(), F.softmax),
    (nn.Softmax(dim=0), lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(), F.log_softmax),
    (nn.LogSoftmax(dim=0), lambda x: F.log_softmax(x, 0)),
]


@pytest.mark.parametrize("module, functional", ACTIVATION_MODULES,
                         ids=[repr(m) for m, _ in ACTIVATION_MODULES])
def test_activation_module_equals_functional(module, functional):
    x = axonic.tensor(np.random.default_rng(0).standard_normal((4, 7)) * 3)
    np.testing.assert_array_equal(module(x).numpy(), functional(x).numpy())
    assert list(module.parameters()) == []


def test_activation_module_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ELU(0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("bad")
