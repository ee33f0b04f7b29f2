"""Reference (NumPy) inverted dropout: the oracle for csrc/cpu/dropout.

The mask is uint8 (1 kept, 0 dropped) and reproducible from (seed, offset, index):
element i uses the counter ``c = offset + i`` (mod 2^64) and the SplitMix64 hash

    z = seed + (c + 1) * 0x9E3779B97F4A7C15            (mod 2^64)
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    z =  z ^ (z >> 31)
    u = (z >> 11) * 2**-53                             in [0, 1), exact in float64

and is kept iff ``u >= p``. The native kernel computes the same bits, so masks agree
exactly on every thread count. Kept elements are scaled by 1 / (1 - p) in float64 and
rounded once into ``out``; dropped ones are 0. p = 0 keeps everything, p = 1 drops
everything (no division by zero).
"""

from __future__ import annotations

import math

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U64 = 1 << 64


def _check_probability(p) -> float:
    p = float(p)
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
    return p


def _check_u64(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if not 0 <= value < _U64:
        raise ValueError(f"{name} must be an unsigned 64-bit integer, got {value}")
    return value


def _check_float(a, name: str) -> None:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {a.dtype}")


def _check_mask(mask, like, name: str, like_name: str) -> None:
    if not isinstance(mask, np.ndarray) or mask.dtype != np.uint8:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(f"{name} must be a uint8 array (1 kept, 0 dropped), got {got}")
    if mask.shape != like.shape:
        raise ValueError(f"{name} must have the shape of {like_name} {like.shape}, "
                         f"got {mask.shape}")


def _check_pair(a, a_name: str, b, b_name: str) -> None:
    _check_float(a, a_name)
    _check_float(b, b_name)
    if b.dtype != a.dtype:
        raise TypeError(f"{b_name} must have the dtype of {a_name} ({a.dtype}), got {b.dtype}")
    if b.shape != a.shape:
        raise ValueError(f"{b_name} must have the shape of {a_name} {a.shape}, got {b.shape}")


def dropout_uniform(seed: int, offset: int, n: int) -> np.ndarray:
    """The float64 uniforms in [0, 1) of counters offset .. offset + n - 1 under seed."""
    seed = np.uint64(_check_u64(seed, "seed"))
    counter = np.arange(n, dtype=np.uint64) + np.uint64(_check_u64(offset, "offset"))
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps mod 2^64 by design
        z = seed + (counter + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def dropout_forward(x, out, mask, p, seed, offset=0) -> None:
    """mask = uniform(seed, offset + i) >= p; out = mask ? x / (1 - p) : 0. Any shape."""
    p = _check_probability(p)
    _check_pair(x, "x", out, "out")
    _check_mask(mask, x, "mask", "x")
    keep = dropout_uniform(seed, offset, x.size).reshape(x.shape) >= p
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    mask[...] = keep
    with np.errstate(invalid="ignore"):  # inf * 0 when p = 1 lands where keep is False
        out[...] = np.where(keep, x.astype(np.float64) * scale, 0.0)


def dropout_backward(grad_out, mask, grad_in, p) -> None:
    """grad_in = mask ? grad_out / (1 - p) : 0 (zeros when p = 1)."""
    p = _check_probability(p)
    _check_pair(grad_out, "grad_out", grad_in, "grad_in")
    _check_mask(mask, grad_out, "mask", "grad_out")
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    with np.errstate(invalid="ignore"):  # inf * 0 when p = 1 lands where mask is 0
        grad_in[...] = np.where(mask != 0, grad_out.astype(np.float64) * scale, 0.0)
