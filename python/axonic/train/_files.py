"""Atomic file writes: write a temporary file in the target's directory, then
``os.replace`` it over the target, so a reader never sees a half-written file and a
crash leaves the previous version (and no temporary file) behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import IO

import numpy as np


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """A file object writing to a temporary sibling of ``path``, moved onto ``path`` when
    the block exits normally and deleted when it raises. ``mode`` is "w" or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: the directory {directory!r} does not "
                                f"exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, mode, **kwargs) as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def atomic_savez(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Saves ``arrays`` by name with ``np.savez`` (no pickle) to exactly ``path`` (no
    ".npz" is appended), atomically. Read back with ``dict(np.load(path))``."""
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    for name, array in arrays.items():
        if array.dtype.kind == "O":
            raise TypeError(f"atomic_savez saves numeric arrays only (no pickle); {name!r} is an "
                            f"object array")
    with atomic_open(path, "wb") as file:
        np.savez(file, **arrays)
