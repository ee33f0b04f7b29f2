"""Batch-wise, seeded image augmentation: ``Compose``, ``Normalize``, ``RandomHorizontalFlip``,
``RandomCrop``, ``RandomAffine``, ``RandomShift``, ``ColorJitter``.

Every transform takes what ``DataLoader(transform=...)`` hands it: an image batch x of shape
(N, C, H, W) (a Tensor or NumPy array; a single (C, H, W) image too) or a tuple ``(x, y,
...)``, in which case only x is transformed and the rest passes through. The result is the
same kind as the input: Tensor in, Tensor out (same device), array in, array out, (C, H, W)
in, (C, H, W) out, with the dtype kept. Integer images (e.g. uint8) are rounded and clipped
to their dtype's range after arithmetic; float images are never clipped, so the transforms
work before or after ``Normalize``. The one exception is ``Normalize`` itself: an integer
image comes out float32.

Random transforms draw one set of parameters per image, vectorised over the batch. With
``seed=None`` they draw from ``axonic.random.generator()`` at call time, so
``axonic.manual_seed`` repeats a run; an integer seed gives the transform its own
``numpy.random.Generator``, so two transforms built with the same seed repeat each other.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from ..random import generator
from ..tensor import Tensor

__all__ = ["Compose", "Normalize", "RandomHorizontalFlip", "RandomCrop", "RandomAffine",
           "RandomShift", "ColorJitter"]


# ----- input handling ---------------------------------------------------------------------
def _cast_like(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``out`` in ``dtype``: integer dtypes are rounded and clipped to their range."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    elif dtype.kind == "b":
        out = out != 0
    return out.astype(dtype, copy=False)


def _apply_images(x: Any, fn: Callable[[np.ndarray], np.ndarray], name: str) -> Any:
    """Runs ``fn`` on x as an (N, C, H, W) NumPy array and returns the kind x was."""
    if isinstance(x, Tensor):
        array = x.numpy()
    else:
        array = np.asarray(x)
    if array.ndim not in (3, 4):
        raise ValueError(f"{name} expects images of shape (N, C, H, W) or (C, H, W), got "
                         f"shape {array.shape}")
    out = fn(array[None] if array.ndim == 3 else array)
    out = np.ascontiguousarray(out[0] if array.ndim == 3 else out)
    if isinstance(x, Tensor):
        result = Tensor._wrap(out)
        return result if x.device == "cpu" else result.to(x.device)
    return out


def _apply(batch: Any, fn: Callable[[np.ndarray], np.ndarray], name: str) -> Any:
    """``fn`` applied to a bare image batch, or to the first item of an (x, y, ...) tuple."""
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], (Tensor, np.ndarray)):
        first = _apply_images(batch[0], fn, name)
        return type(batch)([first, *batch[1:]])
    return _apply_images(batch, fn, name)


def _check_seed(seed: Any, name: str) -> np.random.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} seed must be None or a non-negative integer, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
            value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as (a, b)."""
    items = (value, value) if isinstance(value, numbers.Integral) else value
    if not isinstance(items, Sequence) or len(items) != 2 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(items[0]), int(items[1])


class _RandomTransform:
    """Holds the generator choice shared by every random transform."""

    def __init__(self, seed: int | None):
        self._rng = _check_seed(seed, type(self).__name__)

    def _generator(self) -> np.random.Generator:
        return generator() if self._rng is None else self._rng

    def __call__(self, batch: Any) -> Any:
        return _apply(batch, self._forward, type(self).__name__)

    def _forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


# ----- composition and normalisation ------------------------------------------------------
class Compose:
    """Applies ``transforms`` in order, each to the whole batch (tuple or images)."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence):
            raise ValueError(f"Compose transforms must be a list of callables, got "
                             f"{transforms!r}")
        for t in transforms:
            if not callable(t):
                raise ValueError(f"Compose transforms must be callables, got {t!r}")
        self.transforms = list(transforms)

    def __call__(self, batch: Any) -> Any:
        for t in self.transforms:
            batch = t(batch)
        return batch

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(type(t).__name__ for t in self.transforms) + ")"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel.

    ``mean`` and ``std`` are numbers (every channel) or sequences of length C. Shapes: x
    (N, C, H, W) or (C, H, W) -> same shape; float dtypes kept, integer images become float32.
    """

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
                raise ValueError(f"Normalize {name} must be a number or a 1-D sequence of "
                                 f"finite numbers, got {v.tolist()!r}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize std must not contain zeros, got {self.std.tolist()}")
        if self.mean.size != self.std.size and 1 not in (self.mean.size, self.std.size):
            raise ValueError(f"Normalize mean and std lengths differ: {self.mean.size} vs "
                             f"{self.std.size}")

    def __call__(self, batch: Any) -> Any:
        return _apply(batch, self._forward, "Normalize")

    def _forward(self, x: np.ndarray) -> np.ndarray:
        channels = x.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize {name} has {v.size} values but the images have "
                                 f"{channels} channels")
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        mean = self.mean.astype(dtype).reshape(1, -1, 1, 1)
        std = self.std.astype(dtype).reshape(1, -1, 1, 1)
        return (x.astype(dtype, copy=False) - mean) / std


# ----- geometric --------------------------------------------------------------------------
class RandomHorizontalFlip(_RandomTransform):
    """Mirrors the last axis (W) of each image independently with probability ``p``.

    Shapes: (N, C, H, W) -> (N, C, H, W). Draws N uniforms; image i flips when u_i < p.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None):
        p = _check_number(p, "RandomHorizontalFlip p")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip p must be in [0, 1], got {p}")
        self.p = p
        super().__init__(seed)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        flip = self._generator().random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out


def _padding_lrtb(padding: Any) -> tuple[int, int, int, int]:
    """torchvision's padding: int (all sides), (left/right, top/bottom) or (l, t, r, b)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        sides = (int(padding),) * 4
    elif isinstance(padding, Sequence) and len(padding) in (2, 4) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in padding):
        sides = tuple(int(v) for v in padding)
        if len(sides) == 2:
            sides = (sides[0], sides[1], sides[0], sides[1])
    else:
        raise ValueError(f"RandomCrop padding must be an int or a sequence of 2 or 4 ints, "
                         f"got {padding!r}")
    if min(sides) < 0:
        raise ValueError(f"RandomCrop padding must be non-negative, got {padding!r}")
    return sides  # type: ignore[return-value]


class RandomCrop(_RandomTransform):
    """Pads each image, then cuts a random ``size`` window from it, one window per image.

    ``size``: int (square) or (h, w). ``padding``: int, (left/right, top/bottom) or (left,
    top, right, bottom). ``padding_mode``: "constant" (filled with ``fill``) or "reflect"
    (mirror without repeating the edge; each pad must be smaller than that image side).
    Shapes: (N, C, H, W) -> (N, C, h, w). Draws N top offsets, then N left offsets, uniform
    over the windows inside the padded image. CIFAR-style: ``RandomCrop(32, padding=4)``.
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] = 0,
                 padding_mode: str = "constant", fill: float = 0.0, seed: int | None = None):
        self.size = _check_pair(size, "RandomCrop size")
        if min(self.size) < 1:
            raise ValueError(f"RandomCrop size must be positive, got {size!r}")
        self.padding = _padding_lrtb(padding)
        if padding_mode not in ("constant", "reflect"):
            raise ValueError(f"RandomCrop padding_mode must be 'constant' or 'reflect', got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self.fill = _check_number(fill, "RandomCrop fill")
        super().__init__(seed)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        n, c, height, width = x.shape
        left, top, right, bottom = self.padding
        if self.padding_mode == "reflect" and (max(top, bottom) >= height
                                               or max(left, right) >= width):
            raise ValueError(f"RandomCrop padding {self.padding} with padding_mode='reflect' "
                             f"must be smaller than the image side, got images {height}x{width}")
        pad = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "reflect":
            padded = np.pad(x, pad, mode="reflect")
        else:
            padded = np.pad(x, pad, mode="constant",
                            constant_values=_cast_like(np.array(self.fill), x.dtype))
        h, w = self.size
        padded_h, padded_w = padded.shape[2:]
        if h > padded_h or w > padded_w:
            raise ValueError(f"RandomCrop size {self.size} is larger than the padded image "
                             f"{padded_h}x{padded_w}")
        rng = self._generator()
        tops = rng.integers(0, padded_h - h + 1, size=n)
        lefts = rng.integers(0, padded_w - w + 1, size=n)
        rows = tops[:, None] + np.arange(h)  # (N, h)
        cols = lefts[:, None] + np.arange(w)  # (N, w)
        return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                      rows[:, None, :, None], cols[:, None, None, :]]


def _affine_sample(x: np.ndarray, angles: np.ndarray, dx: np.ndarray, dy: np.ndarray,
                   interpolation: str, fill: float) -> np.ndarray:
    """Rotates image i by ``angles[i]`` degrees (counter-clockwise as displayed) about its
    centre, then shifts it by (dx[i], dy[i]) pixels (right, down); outside is ``fill``.

    Shapes: x (N, C, H, W); angles, dx, dy (N,) -> (N, C, H, W). Each output pixel samples
    the input at the inverse-mapped position, vectorised over the whole batch.
    """
    n, c, height, width = x.shape
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    theta = np.deg2rad(angles)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    ys, xs = np.meshgrid(np.arange(height, dtype=np.float64),
                         np.arange(width, dtype=np.float64), indexing="ij")
    u = xs[None] - cx - dx[:, None, None]  # (N, H, W) output offsets from the centre
    v = ys[None] - cy - dy[:, None, None]
    src_x = cos * u - sin * v + cx  # inverse of the forward map [[cos, sin], [-sin, cos]]
    src_y = sin * u + cos * v + cy
    channels_last = x.transpose(0, 2, 3, 1).astype(np.float64)  # (N, H, W, C)
    batch = np.arange(n)[:, None, None]

    def gather(iy: np.ndarray, ix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inside = (iy >= 0) & (iy < height) & (ix >= 0) & (ix < width)
        values = channels_last[batch, np.clip(iy, 0, height - 1), np.clip(ix, 0, width - 1)]
        return values, inside[..., None]

    if interpolation == "nearest":
        values, inside = gather(np.rint(src_y).astype(np.int64), np.rint(src_x).astype(np.int64))
        out = np.where(inside, values, fill)
    else:
        x0, y0 = np.floor(src_x), np.floor(src_y)
        wx, wy = (src_x - x0)[..., None], (src_y - y0)[..., None]
        x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
        out = np.zeros((n, height, width, c))
        for oy, ox, weight in ((0, 0, (1 - wy) * (1 - wx)), (0, 1, (1 - wy) * wx),
                               (1, 0, wy * (1 - wx)), (1, 1, wy * wx)):
            values, inside = gather(y0 + oy, x0 + ox)
            out += weight * np.where(inside, values, fill)
    return _cast_like(out.transpose(0, 3, 1, 2), x.dtype)


def _check_interpolation(interpolation: Any, name: str) -> str:
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"{name} interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    return interpolation


class RandomAffine(_RandomTransform):
    """A random rotation and shift per image, as torchvision's ``RandomAffine``.

    ``degrees``: d (angles uniform in [-d, d]) or (lo, hi); positive is counter-clockwise.
    ``translate``: None or (a, b): horizontal shifts uniform in [-a*W, a*W] and vertical in
    [-b*H, b*H], rounded to whole pixels. Pixels from outside the image are ``fill``;
    ``interpolation`` is "nearest" or "bilinear". Shapes: (N, C, H, W) -> (N, C, H, W).
    Draws N angles, then N horizontal and N vertical shifts.
    """

    def __init__(self, degrees: float | Sequence[float] = 0,
                 translate: Sequence[float] | None = None, interpolation: str = "nearest",
                 fill: float = 0.0, seed: int | None = None):
        if isinstance(degrees, Sequence):
            if len(degrees) != 2:
                raise ValueError(f"RandomAffine degrees must be a number or a (min, max) pair, "
                                 f"got {degrees!r}")
            lo = _check_number(degrees[0], "RandomAffine degrees")
            hi = _check_number(degrees[1], "RandomAffine degrees")
            if lo > hi:
                raise ValueError(f"RandomAffine degrees must have min <= max, got {degrees!r}")
        else:
            d = _check_number(degrees, "RandomAffine degrees")
            if d < 0:
                raise ValueError(f"RandomAffine degrees must be non-negative, got {degrees!r}")
            lo, hi = -d, d
        self.degrees = (lo, hi)
        if translate is not None:
            if not isinstance(translate, Sequence) or len(translate) != 2:
                raise ValueError(f"RandomAffine translate must be None or a pair (a, b), got "
                                 f"{translate!r}")
            fractions = tuple(_check_number(t, "RandomAffine translate") for t in translate)
            if not all(0.0 <= t <= 1.0 for t in fractions):
                raise ValueError(f"RandomAffine translate values must be in [0, 1], got "
                                 f"{translate!r}")
            translate = fractions
        self.translate = translate
        self.interpolation = _check_interpolation(interpolation, "RandomAffine")
        self.fill = _check_number(fill, "RandomAffine fill")
        super().__init__(seed)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        n, _, height, width = x.shape
        rng = self._generator()
        angles = rng.uniform(self.degrees[0], self.degrees[1], size=n)
        dx = dy = np.zeros(n)
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * width, self.translate[1] * height
            dx = np.rint(rng.uniform(-max_dx, max_dx, size=n))
            dy = np.rint(rng.uniform(-max_dy, max_dy, size=n))
        return _affine_sample(x, angles, dx, dy, self.interpolation, self.fill)


class RandomShift(_RandomTransform):
    """Shifts each image by whole pixels: dx uniform in {-max_dx..max_dx} (right), dy in
    {-max_dy..max_dy} (down); vacated pixels are ``fill``. ``max_dy`` defaults to ``max_dx``.

    Shapes: (N, C, H, W) -> (N, C, H, W). Draws N dx, then N dy.
    """

    def __init__(self, max_dx: int, max_dy: int | None = None, fill: float = 0.0,
                 seed: int | None = None):
        max_dy = max_dx if max_dy is None else max_dy
        for name, value in (("max_dx", max_dx), ("max_dy", max_dy)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"RandomShift {name} must be a non-negative int, got "
                                 f"{value!r}")
        self.max_dx, self.max_dy = int(max_dx), int(max_dy)
        self.fill = _check_number(fill, "RandomShift fill")
        super().__init__(seed)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        rng = self._generator()
        dx = rng.integers(-self.max_dx, self.max_dx + 1, size=n).astype(np.float64)
        dy = rng.integers(-self.max_dy, self.max_dy + 1, size=n).astype(np.float64)
        return _affine_sample(x, np.zeros(n), dx, dy, "nearest", self.fill)


# ----- photometric ------------------------------------------------------------------------
def _factor_range(value: Any, name: str) -> tuple[float, float] | None:
    """torchvision's jitter range: b -> [max(0, 1 - b), 1 + b], or an explicit (lo, hi)."""
    if isinstance(value, Sequence):
        if len(value) != 2:
            raise ValueError(f"ColorJitter {name} must be a number or a (min, max) pair, got "
                             f"{value!r}")
        lo = _check_number(value[0], f"ColorJitter {name}")
        hi = _check_number(value[1], f"ColorJitter {name}")
        if not 0.0 <= lo <= hi:
            raise ValueError(f"ColorJitter {name} must satisfy 0 <= min <= max, got {value!r}")
        return lo, hi
    b = _check_number(value, f"ColorJitter {name}")
    if b < 0:
        raise ValueError(f"ColorJitter {name} must be non-negative, got {value!r}")
    return None if b == 0 else (max(0.0, 1.0 - b), 1.0 + b)


class ColorJitter(_RandomTransform):
    """Random brightness, then contrast, one factor of each per image (as torchvision).

    Brightness: ``x * f``. Contrast: ``f * x + (1 - f) * m`` with m the image's mean
    grayscale value (0.299 R + 0.587 G + 0.114 B for 3 channels, the plain mean over C, H, W
    otherwise). ``brightness``/``contrast``: b (factors uniform in [max(0, 1 - b), 1 + b],
    0 disables) or (min, max). Float images are not clipped; integer ones are rounded and
    clipped to their range. Shapes: (N, C, H, W) -> (N, C, H, W). Draws N brightness
    factors, then N contrast factors (only for the enabled ones).
    """

    def __init__(self, brightness: float | Sequence[float] = 0,
                 contrast: float | Sequence[float] = 0, seed: int | None = None):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        super().__init__(seed)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        n, c = x.shape[:2]
        work = np.float64 if x.dtype == np.float64 or x.dtype.kind != "f" else x.dtype
        out = x.astype(work)
        rng = self._generator()
        if self.brightness is not None:
            factor = rng.uniform(*self.brightness, size=n).astype(work)
            out = out * factor[:, None, None, None]
        if self.contrast is not None:
            factor = rng.uniform(*self.contrast, size=n).astype(work)[:, None, None, None]
            if c == 3:
                gray = np.tensordot(np.array([0.299, 0.587, 0.114], dtype=work), out,
                                    axes=([0], [1]))  # (N, H, W)
                mean = gray.mean(axis=(1, 2))
            else:
                mean = out.mean(axis=(1, 2, 3))
            out = factor * out + (1 - factor) * mean[:, None, None, None]
        return _cast_like(out, x.dtype)
