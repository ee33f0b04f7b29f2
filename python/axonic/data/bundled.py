"""Small datasets that ship inside scikit-learn (no download): ``load_digits``,
``load_breast_cancer``, ``load_diabetes``.

scikit-learn is imported only when one of these is called; without it the error says how
to install it (``pip install "axonic[datasets]"``).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np


def _sklearn_loader(name: str) -> Any:
    """``sklearn.datasets.<name>``, or an ``ImportError`` saying how to get scikit-learn."""
    try:
        datasets = importlib.import_module("sklearn.datasets")
    except ImportError as err:
        raise ImportError(f"axonic.data.{name} reads the copy of the data bundled with "
                          f"scikit-learn, which is not installed; install it with\n"
                          f'    pip install "axonic[datasets]"   (or: pip install '
                          f"scikit-learn)") from err
    return getattr(datasets, name)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: features (1797, 64) float32 (pixel intensities 0..16)
    and labels (1797,) int64 in 0..9. Reshape features to (N, 1, 8, 8) for a CNN."""
    data = _sklearn_loader("load_digits")()
    return data.data.astype(np.float32), data.target.astype(np.int64)


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The Wisconsin breast-cancer table: features (569, 30) float32 and labels (569,)
    int64 (0 malignant, 1 benign). Standardize the features before training."""
    data = _sklearn_loader("load_breast_cancer")()
    return data.data.astype(np.float32), data.target.astype(np.int64)


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """The diabetes regression table: features (442, 10) float32 (already centred and
    scaled by scikit-learn) and targets (442,) float32 (disease progression, 25..346)."""
    data = _sklearn_loader("load_diabetes")()
    return data.data.astype(np.float32), data.target.astype(np.float32)
