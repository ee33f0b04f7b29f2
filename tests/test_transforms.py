"""axonic.data.transforms: exact effects, seeding, input kinds and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import axonic
from axonic.data import (
    ColorJitter,
    Compose,
    DataLoader,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomShift,
    TensorDataset,
)
from conftest import assert_close


def _images(n: int = 6, c: int = 3, h: int = 5, w: int = 7, dtype=np.float32) -> np.ndarray:
    """Distinct values everywhere, so any misplaced pixel shows."""
    return np.arange(n * c * h * w, dtype=dtype).reshape(n, c, h, w)


def _flip_mask(p: float, n: int, seed: int) -> np.ndarray:
    """The images RandomHorizontalFlip(p, seed=seed) flips: u_i < p for its first N draws."""
    return np.random.default_rng(seed).random(n) < p


# ----- RandomHorizontalFlip ---------------------------------------------------------------
def test_flip_mirrors_exactly_the_chosen_images():
    x = _images(n=16)
    out = RandomHorizontalFlip(0.5, seed=4)(x)
    chosen = _flip_mask(0.5, 16, 4)
    assert 0 < chosen.sum() < 16
    np.testing.assert_array_equal(out[chosen], x[chosen][..., ::-1])
    np.testing.assert_array_equal(out[~chosen], x[~chosen])


@pytest.mark.parametrize("p, flipped", [(0.0, False), (1.0, True)])
def test_flip_p_zero_and_one(p, flipped):
    x = _images()
    out = RandomHorizontalFlip(p)(x)
    np.testing.assert_array_equal(out, x[..., ::-1] if flipped else x)


def test_flip_does_not_modify_its_input():
    x = _images()
    before = x.copy()
    RandomHorizontalFlip(1.0)(x)
    np.testing.assert_array_equal(x, before)


# ----- RandomCrop -------------------------------------------------------------------------
def test_crop_equals_the_explicit_slice_of_the_padded_image():
    x = _images(n=8, h=6, w=6)
    out = RandomCrop(6, padding=2, seed=11)(x)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    rng = np.random.default_rng(11)
    tops, lefts = rng.integers(0, 5, size=8), rng.integers(0, 5, size=8)
    assert out.shape == (8, 3, 6, 6)
    for i in range(8):
        np.testing.assert_array_equal(out[i], padded[i, :, tops[i]:tops[i] + 6,
                                                     lefts[i]:lefts[i] + 6])


def test_crop_windows_lie_inside_the_padded_image():
    x = np.ones((200, 1, 4, 4), dtype=np.float32)
    out = RandomCrop(4, padding=1, seed=0)(x)
    # every window keeps at least a 3x3 block of ones, and the zero border is at most 1 wide
    assert np.all(out[:, :, 1:3, 1:3] == 1)
    assert {int(s) for s in out.sum(axis=(1, 2, 3))} <= {9, 12, 16}
    assert len({int(s) for s in out.sum(axis=(1, 2, 3))}) == 3  # every offset kind occurs


def test_crop_without_padding_and_full_size_is_identity():
    x = _images()
    np.testing.assert_array_equal(RandomCrop((5, 7))(x), x)


def test_crop_reflect_padding_and_fill():
    x = _images(n=4, h=4, w=4)
    out = RandomCrop(8, padding=2, padding_mode="reflect")(x)
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)),
                                              mode="reflect"))
    filled = RandomCrop((4, 6), padding=(1, 0), fill=-1.0)(x)  # (left/right, top/bottom)
    np.testing.assert_array_equal(filled[..., 0], -1)
    np.testing.assert_array_equal(filled[..., 1:5], x)


def test_crop_cifar_style_shape():
    x = np.zeros((5, 3, 32, 32), dtype=np.float32)
    assert RandomCrop(32, padding=4, seed=0)(x).shape == (5, 3, 32, 32)


# ----- RandomAffine and RandomShift -------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_zero_is_identity(interpolation):
    x = _images()
    assert_close(RandomAffine(0, interpolation=interpolation)(x), x)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_90_degrees_is_rot90(interpolation):
    x = _images(n=2, c=2, h=5, w=5)
    out = RandomAffine((90, 90), interpolation=interpolation)(x)
    assert_close(out, np.rot90(x, k=1, axes=(2, 3)), atol=1e-4)
    back = RandomAffine((-90, -90))(x)
    np.testing.assert_array_equal(back, np.rot90(x, k=-1, axes=(2, 3)))


def test_rotation_by_45_degrees_keeps_centre_and_fills_corners():
    x = np.ones((1, 1, 9, 9), dtype=np.float32)
    out = RandomAffine((45, 45), fill=0.0)(x)
    assert out[0, 0, 4, 4] == 1 and out[0, 0, 0, 0] == 0 and out[0, 0, 8, 8] == 0


def test_translate_moves_content_by_drawn_whole_pixels():
    x = np.zeros((1, 1, 9, 9), dtype=np.float32)
    x[0, 0, 4, 4] = 1
    out = RandomAffine(0, translate=(0.3, 0.3), seed=5)(x)
    rng = np.random.default_rng(5)
    rng.uniform(0, 0, size=1)  # the angles
    dx, dy = np.rint(rng.uniform(-2.7, 2.7, size=1)), np.rint(rng.uniform(-2.7, 2.7, size=1))
    expected = np.zeros_like(x)
    expected[0, 0, 4 + int(dy[0]), 4 + int(dx[0])] = 1
    np.testing.assert_array_equal(out, expected)


def test_shift_moves_content_and_fills_with_zero():
    x = _images(n=10, c=1, h=6, w=6) + 1
    out = RandomShift(2, 1, seed=3)(x)
    rng = np.random.default_rng(3)
    dx, dy = rng.integers(-2, 3, size=10), rng.integers(-1, 2, size=10)
    for i in range(10):
        expected = np.zeros((1, 6, 6), dtype=np.float32)
        src = x[i, :, max(0, -dy[i]):6 - max(0, dy[i]), max(0, -dx[i]):6 - max(0, dx[i])]
        expected[:, max(0, dy[i]):max(0, dy[i]) + src.shape[1],
                 max(0, dx[i]):max(0, dx[i]) + src.shape[2]] = src
        np.testing.assert_array_equal(out[i], expected)


def test_shift_zero_is_identity_and_integer_dtype_kept():
    x = _images(dtype=np.uint8)
    out = RandomShift(0)(x)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, x)


def test_bilinear_rotation_is_exact_on_a_linear_ramp():
    # bilinear sampling reproduces a linear image exactly wherever all 4 neighbours exist:
    # output (r, c) reads column cos*u - sin*v + cx with u = c - cx, v = r - cy
    x = np.broadcast_to(np.arange(9, dtype=np.float64), (1, 1, 9, 9)).copy()
    out = RandomAffine((30, 30), interpolation="bilinear")(x)
    rows, cols = np.mgrid[0:9, 0:9].astype(np.float64)
    t = np.deg2rad(30)
    expected = np.cos(t) * (cols - 4) - np.sin(t) * (rows - 4) + 4
    assert_close(out[0, 0, 2:7, 2:7], expected[2:7, 2:7])
    nearest = RandomAffine((30, 30), interpolation="nearest")(x)
    np.testing.assert_array_equal(nearest[0, 0, 2:7, 2:7], np.rint(expected[2:7, 2:7]))


# ----- ColorJitter and Normalize ----------------------------------------------------------
def test_brightness_multiplies_by_the_drawn_factor():
    x = _images(n=4, dtype=np.float64) / 100
    out = ColorJitter(brightness=0.5, seed=2)(x)
    factors = np.random.default_rng(2).uniform(0.5, 1.5, size=4)
    assert_close(out, x * factors[:, None, None, None])
    assert out.dtype == np.float64


def test_contrast_blends_with_the_grayscale_mean():
    x = _images(n=4, dtype=np.float64) / 100
    out = ColorJitter(contrast=(0.2, 0.8), seed=9)(x)
    f = np.random.default_rng(9).uniform(0.2, 0.8, size=4)[:, None, None, None]
    gray = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    mean = gray.mean(axis=(1, 2))[:, None, None, None]
    assert_close(out, f * x + (1 - f) * mean)


def test_brightness_then_contrast_on_one_channel():
    x = _images(n=3, c=1, dtype=np.float64)
    out = ColorJitter(brightness=(2, 2), contrast=(0.5, 0.5))(x)
    bright = 2 * x
    assert_close(out, 0.5 * bright + 0.5 * bright.mean(axis=(1, 2, 3), keepdims=True))


def test_color_jitter_clips_integer_images_and_zero_is_identity():
    x = np.full((2, 3, 2, 2), 200, dtype=np.uint8)
    out = ColorJitter(brightness=(2, 2))(x)
    assert out.dtype == np.uint8 and np.all(out == 255)
    np.testing.assert_array_equal(ColorJitter()(x), x)


def test_normalize_per_channel():
    x = _images(n=2, c=3, dtype=np.float32)
    mean, std = [1.0, 2.0, 3.0], [0.5, 1.0, 2.0]
    expected = (x - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    out = Normalize(mean, std)(x)
    assert out.dtype == np.float32
    assert_close(out, expected)
    assert_close(Normalize(1.0, 2.0)(x), (x - 1) / 2)


def test_normalize_integer_images_become_float32():
    out = Normalize([0.0], [255.0])(np.full((1, 1, 2, 2), 255, dtype=np.uint8))
    assert out.dtype == np.float32
    assert_close(out, np.ones((1, 1, 2, 2), dtype=np.float32))


# ----- seeding ----------------------------------------------------------------------------
_RANDOM = [
    lambda s: RandomHorizontalFlip(seed=s),
    lambda s: RandomCrop(5, padding=2, seed=s),
    lambda s: RandomAffine(30, translate=(0.2, 0.2), interpolation="bilinear", seed=s),
    lambda s: RandomShift(2, seed=s),
    lambda s: ColorJitter(brightness=0.4, contrast=0.4, seed=s),
]


@pytest.mark.parametrize("make", _RANDOM)
def test_same_seed_repeats_and_draws_differ_per_call(make):
    x = _images(n=8, h=5, w=5)
    a, b = make(7), make(7)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(first, a(x))  # the generator moves on between calls


@pytest.mark.parametrize("make", _RANDOM)
def test_manual_seed_repeats_runs(make):
    x = _images(n=8, h=5, w=5)
    t = make(None)
    axonic.manual_seed(123)
    first = t(x)
    axonic.manual_seed(123)
    np.testing.assert_array_equal(t(x), first)


# ----- input kinds ------------------------------------------------------------------------
@pytest.mark.parametrize("make", _RANDOM + [lambda s: Normalize([0.5, 0.4, 0.3], [2, 3, 4])])
def test_input_kinds_tensor_array_unbatched_and_tuple(make):
    x = _images(n=4, h=5, w=5)
    y = np.arange(4)
    expected = make(1)(x)

    out = make(1)(axonic.tensor(x))
    assert isinstance(out, axonic.Tensor) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), expected)

    xt, yt = axonic.tensor(x), axonic.tensor(y)
    out_x, out_y = make(1)((xt, yt))
    assert out_y is yt
    np.testing.assert_array_equal(out_x.numpy(), expected)

    single = make(1)(x[0])
    assert isinstance(single, np.ndarray) and single.shape == expected.shape[1:]
    np.testing.assert_array_equal(single, make(1)(x[:1])[0])


def test_float64_dtype_kept():
    x = _images(dtype=np.float64)
    for t in (RandomHorizontalFlip(1.0), RandomCrop(3, seed=0), RandomAffine(10, seed=0),
              ColorJitter(0.5, seed=0), Normalize(0.5, 2.0)):
        assert t(axonic.tensor(x)).dtype == np.float64


# ----- Compose and DataLoader -------------------------------------------------------------
def test_compose_applies_in_order():
    x = _images(n=2, c=1)
    flip_then_norm = Compose([RandomHorizontalFlip(1.0), Normalize(10.0, 2.0)])
    np.testing.assert_array_equal(flip_then_norm(x), (x[..., ::-1] - 10) / 2)
    calls = []
    Compose([lambda b: calls.append("a") or b, lambda b: calls.append("b") or b])(x)
    assert calls == ["a", "b"]
    crop_then_shift = Compose([RandomCrop(3), lambda b: b + 1])
    assert crop_then_shift(x).shape == (2, 1, 3, 3)


def test_inside_a_data_loader():
    x = _images(n=10, h=6, w=6)
    y = np.arange(10)
    transform = Compose([RandomCrop(6, padding=1, seed=0), RandomHorizontalFlip(seed=0),
                         Normalize([0.0] * 3, [2.0] * 3)])
    loader = DataLoader(TensorDataset(x, y), batch_size=4, transform=transform)
    batches = list(loader)
    assert [b[0].shape for b in batches] == [(4, 3, 6, 6), (4, 3, 6, 6), (2, 3, 6, 6)]
    labels = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(labels, y)
    assert all(isinstance(b[0], axonic.Tensor) and b[0].dtype == np.float32 for b in batches)


# ----- bad arguments ----------------------------------------------------------------------
@pytest.mark.parametrize("make, word", [
    (lambda: RandomHorizontalFlip(-0.1), "p"),
    (lambda: RandomHorizontalFlip(1.5), "p"),
    (lambda: RandomHorizontalFlip(0.5, seed=-1), "seed"),
    (lambda: RandomCrop(0), "size"),
    (lambda: RandomCrop((3, 3, 3)), "size"),
    (lambda: RandomCrop(3, padding=-1), "padding"),
    (lambda: RandomCrop(3, padding=(1, 2, 3)), "padding"),
    (lambda: RandomCrop(3, padding_mode="edge"), "padding_mode"),
    (lambda: Normalize([0.5], [0.0]), "std"),
    (lambda: Normalize([0.5, 0.5], [1.0, 1.0, 1.0]), "mean and std"),
    (lambda: Normalize([[0.5]], [1.0]), "mean"),
    (lambda: RandomAffine(-5), "degrees"),
    (lambda: RandomAffine((10, -10)), "degrees"),
    (lambda: RandomAffine(5, translate=(0.5, 1.5)), "translate"),
    (lambda: RandomAffine(5, translate=0.5), "translate"),
    (lambda: RandomAffine(5, interpolation="cubic"), "interpolation"),
    (lambda: RandomShift(-1), "max_dx"),
    (lambda: RandomShift(1, 1.5), "max_dy"),
    (lambda: ColorJitter(brightness=-0.1), "brightness"),
    (lambda: ColorJitter(contrast=(0.8, 0.2)), "contrast"),
    (lambda: Compose([RandomHorizontalFlip(), 3]), "transforms"),
])
def test_bad_constructor_arguments(make, word):
    with pytest.raises(ValueError, match=word):
        make()


@pytest.mark.parametrize("transform, x, word", [
    (RandomCrop(8, padding=1), _images(h=5, w=5), "larger than the padded image"),
    (RandomCrop(3, padding=5, padding_mode="reflect"), _images(h=5, w=5), "reflect"),
    (Normalize([0.5, 0.5], [1.0, 1.0]), _images(c=3), "3 channels"),
    (RandomHorizontalFlip(), np.zeros((2, 3)), r"\(N, C, H, W\)"),
    (RandomShift(1), np.zeros((1, 1, 1, 2, 2)), r"\(N, C, H, W\)"),
    (ColorJitter(0.5), axonic.tensor(np.zeros(4)), r"\(N, C, H, W\)"),
])
def test_bad_inputs_at_call_time(transform, x, word):
    with pytest.raises(ValueError, match=word):
        transform(x)
