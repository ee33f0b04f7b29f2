"""Checks shared by the sliding-window reference kernels (convolution and pooling)."""

from __future__ import annotations


def check_window_steps(op: str, stride: tuple[int, int], padding: tuple[int, int],
                       dilation: tuple[int, int]) -> None:
    """ValueError unless stride and dilation are positive and padding is non-negative
    ((h, w) pairs each)."""
    if min(stride) < 1:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(dilation) < 1:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    if min(padding) < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
