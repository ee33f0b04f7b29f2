"""axonic.models: output shapes, parameter counts, gradients, shortcuts, train/eval, errors."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic import models, nn


def _images(n: int, channels: int, size: int) -> axonic.Tensor:
    rng = np.random.default_rng(0)
    return axonic.tensor(rng.standard_normal((n, channels, size, size)).astype(np.float32))


def _count(module: nn.Module) -> int:
    return sum(int(np.prod(p.shape)) for p in module.parameters())


# ----- output shapes -----------------------------------------------------------------------
@pytest.mark.parametrize("size", [28, 32])
def test_lenet5_maps_28_and_32_pixel_images_to_logits(size):
    model = models.lenet5(num_classes=7, in_channels=1, input_size=size)
    assert model(_images(2, 1, size)).shape == (2, 7)


@pytest.mark.parametrize("config", ["vgg11", "vgg16", [4, "M", 8, "M"]])
@pytest.mark.parametrize("size", [32, 64])
def test_vgg_output_shape(config, size):
    model = models.vgg(config, num_classes=5, in_channels=3, width=0.0625, input_size=size)
    assert model(_images(2, 3, size)).shape == (2, 5)


@pytest.mark.parametrize("small_input, size", [(True, 32), (True, 16), (False, 32),
                                               (False, 64)])
def test_resnet18_output_shape(small_input, size):
    model = models.resnet18(num_classes=10, in_channels=3, width=4, small_input=small_input)
    assert model(_images(2, 3, size)).shape == (2, 10)


def test_generic_resnet_with_other_layer_counts():
    model = models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=3, in_channels=1, width=2)
    assert model(_images(2, 1, 16)).shape == (2, 3)
    assert len(model.layer1) == 1 and len(model.layer4) == 1


# ----- parameter counts --------------------------------------------------------------------
def test_lenet5_has_the_classic_61706_parameters():
    assert models.lenet5().num_parameters() == 61706
    assert models.lenet5(input_size=28).num_parameters() == 61706
    # 3 channels, 100 classes: conv1 3*6*25+6, fc3 84*100+100
    assert _count(models.lenet5(100, 3)) == 61706 - 156 - 850 + 456 + 8500


def _vgg_formula(layout, in_channels, width, batch_norm, size, classes):
    total, channels = 0, in_channels
    for item in layout:
        if item == "M":
            size //= 2
            continue
        out = max(1, round(item * width))
        total += channels * out * 9 + out + (2 * out if batch_norm else 0)
        channels = out
    hidden = max(1, round(512 * width))
    return total + (channels * size * size + 1) * hidden + (hidden + 1) * hidden \
        + (hidden + 1) * classes


@pytest.mark.parametrize("config", ["vgg11", "vgg16"])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_vgg_parameter_count_matches_the_formula(config, batch_norm):
    model = models.vgg(config, num_classes=10, in_channels=3, width=0.125,
                       batch_norm=batch_norm, input_size=32)
    expected = _vgg_formula(models.VGG_CONFIGS[config], 3, 0.125, batch_norm, 32, 10)
    assert model.num_parameters() == expected


def test_vgg16_at_full_width_on_cifar():
    # 14,728,266 conv+BN and 512-512-10 classifier: the usual CIFAR VGG-16 plus one hidden fc
    model = models.vgg("vgg16", width=1.0, input_size=32)
    assert model.num_parameters() == _vgg_formula(models.VGG_CONFIGS["vgg16"], 3, 1.0, True,
                                                  32, 10)


def _resnet18_formula(width, classes, in_channels, small_input):
    """Hand count: stem, four stages of two BasicBlocks (BN: 2 per channel), fc."""
    w = width
    stem = in_channels * w * (9 if small_input else 49) + 2 * w
    total = stem + 2 * 2 * (w * w * 9 + 2 * w)  # layer1: identity shortcuts
    for stage in range(1, 4):
        p, q = w * 2 ** stage, w * 2 ** (stage - 1)
        first = q * p * 9 + 2 * p + p * p * 9 + 2 * p + q * p + 2 * p  # with projection
        second = 2 * (p * p * 9 + 2 * p)
        total += first + second
    return total + 8 * w * classes + classes


def test_resnet18_width_64_matches_torchvision_counts():
    try:
        import torchvision
    except ImportError:
        # torchvision's resnet18: 11,689,512 with a 1000-way fc (513,000) and a 7x7 stem
        # (9,408); with a 10-way fc (5,130) and a 3x3 stem (1,728) instead:
        reference = {False: 11689512 - 513000 + 5130,
                     True: 11689512 - 513000 + 5130 - 9408 + 1728}
    else:
        net = torchvision.models.resnet18(num_classes=10)
        total = sum(p.numel() for p in net.parameters())
        reference = {False: total, True: total - 9408 + 1728}
    for small_input in (True, False):
        model = models.resnet18(num_classes=10, width=64, small_input=small_input)
        assert model.num_parameters() == reference[small_input]
        assert reference[small_input] == _resnet18_formula(64, 10, 3, small_input)


@pytest.mark.parametrize("width, classes, channels", [(4, 10, 3), (3, 7, 1)])
def test_resnet18_parameter_count_matches_the_formula(width, classes, channels):
    for small_input in (True, False):
        model = models.resnet18(classes, channels, width, small_input)
        assert model.num_parameters() == _resnet18_formula(width, classes, channels,
                                                           small_input)


# ----- gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize("build, channels, size", [
    (lambda: models.lenet5(input_size=28), 1, 28),
    (lambda: models.vgg("vgg11", width=0.0625), 3, 32),
    (lambda: models.resnet18(width=4), 3, 16),
    (lambda: models.resnet18(width=4, small_input=False), 3, 32),
])
def test_backward_reaches_every_parameter(build, channels, size):
    axonic.manual_seed(0)
    model = build()
    logits = model(_images(2, channels, size))
    loss = nn.CrossEntropyLoss()(logits, axonic.tensor(np.array([0, 1])))
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert param.grad.shape == param.shape, name
        assert np.all(np.isfinite(param.grad.numpy())), name
    assert any(np.any(p.grad.numpy() != 0) for p in model.parameters())


# ----- structure ---------------------------------------------------------------------------
@pytest.mark.parametrize("small_input", [True, False])
def test_projection_shortcut_exactly_where_stride_or_channels_change(small_input):
    model = models.resnet18(width=4, small_input=small_input)
    seen = []
    for stage in range(1, 5):
        for index, block in enumerate(getattr(model, f"layer{stage}")):
            changes = block.conv1.stride != (1, 1) or \
                block.conv1.in_channels != block.conv2.out_channels
            assert (block.shortcut is not None) == changes, (stage, index)
            if block.shortcut is not None:
                conv = block.shortcut[0]
                assert conv.kernel_size == (1, 1) and conv.bias is None
                assert conv.stride == block.conv1.stride
                assert isinstance(block.shortcut[1], nn.BatchNorm2d)
            seen.append(block.shortcut is not None)
    assert seen == [False, False, True, False, True, False, True, False]


def test_basic_block_shapes_and_identity_shortcut():
    same = models.BasicBlock(4, 4, 1)
    assert same.shortcut is None
    assert same(_images(2, 4, 8)).shape == (2, 4, 8, 8)
    down = models.BasicBlock(4, 8, 2)
    assert down.shortcut is not None
    assert down(_images(2, 4, 8)).shape == (2, 8, 4, 4)
    wider = models.BasicBlock(4, 8, 1)
    assert wider.shortcut is not None


def test_train_and_eval_switch_batch_norm_behaviour():
    axonic.manual_seed(0)
    model = models.resnet18(width=4)
    x = _images(2, 3, 16)
    bn = model.stem[1]
    before = bn.running_mean.numpy().copy()
    model.train()
    batch_out = model(x).numpy()
    alone_out = model(axonic.tensor(x.numpy()[:1])).numpy()
    assert not np.allclose(batch_out[0], alone_out[0], atol=1e-5)  # batch statistics
    assert not np.allclose(bn.running_mean.numpy(), before)
    model.eval()
    after_train = bn.running_mean.numpy().copy()
    with axonic.no_grad():
        eval_batch = model(x).numpy()
        eval_alone = model(axonic.tensor(x.numpy()[:1])).numpy()
    np.testing.assert_allclose(eval_batch[0], eval_alone[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.numpy(), after_train)
    assert all(not m.training for m in model.modules())


# ----- bad arguments -----------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: models.vgg("vgg13"),
    lambda: models.vgg([]),
    lambda: models.vgg([8, "X"]),
    lambda: models.vgg("vgg11", width=0),
    lambda: models.vgg("vgg11", width=-0.5),
    lambda: models.vgg("vgg11", input_size=16),  # five pools need at least 32 pixels
    lambda: models.vgg("vgg11", num_classes=0),
    lambda: models.resnet18(width=0),
    lambda: models.resnet18(width=-8),
    lambda: models.resnet18(num_classes=0),
    lambda: models.ResNet(models.BasicBlock, [2, 2, 2]),
    lambda: models.ResNet(models.BasicBlock, [2, 0, 2, 2]),
    lambda: models.lenet5(num_classes=0),
    lambda: models.lenet5(input_size=8),
    lambda: models.BasicBlock(4, 8, stride=0),
])
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_models_is_exported():
    assert "models" in axonic.__all__ and axonic.models is models
