"""CIFAR-10 from its binary batches: ``CIFAR10``.

Each batch file is a sequence of 3073-byte records: one label byte (0..9) then 3072 pixel
bytes, the 32x32 red plane, then green, then blue (CHW order). The training split is
``data_batch_1.bin`` .. ``data_batch_5.bin`` (10000 records each), the test split
``test_batch.bin``; ``batches.meta.txt`` holds the class names, one per line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import PathLike, locate_files, read_bytes
from .dataset import TensorDataset

RECORD_BYTES = 1 + 3 * 32 * 32
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILES = ("test_batch.bin",)
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"


def read_cifar_batch(path: PathLike, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The images (N, 3, 32, 32) uint8 and labels (N,) int64 of one binary batch file.

    A file whose size is not a multiple of 3073 bytes, an empty file, or a label outside
    0..num_classes-1 raises ``ValueError`` naming the file.
    """
    raw = read_bytes(path)
    if len(raw) == 0:
        raise ValueError(f"{path}: the CIFAR batch file is empty")
    if len(raw) % RECORD_BYTES:
        raise ValueError(f"{path}: truncated CIFAR batch: {len(raw)} bytes is not a multiple "
                         f"of the {RECORD_BYTES}-byte record (1 label + 3072 pixels); "
                         f"{len(raw) % RECORD_BYTES} bytes are left over")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    bad = np.flatnonzero(labels >= num_classes)
    if bad.size:
        raise ValueError(f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])}, "
                         f"outside 0..{num_classes - 1}")
    images = records[:, 1:].reshape(-1, 3, 32, 32)
    return images, labels


def read_class_names(path: Path, expected: int) -> list[str]:
    """The non-blank lines of ``path`` (a ``batches.meta.txt``), which must number
    ``expected``."""
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [name for name in names if name]
    if len(names) != expected:
        raise ValueError(f"{path}: expected {expected} class names, one per line, found "
                         f"{len(names)}: {names}")
    return names


class CIFAR10(TensorDataset):
    """The CIFAR-10 images from the binary batches in ``root`` (or in
    ``root/cifar-10-batches-bin``, where the archive unpacks).

    Samples are ``(image, label)``: image (3, 32, 32) float32 in [0, 1] (uint8 when
    ``normalize`` is False), label an int64 in 0..9. ``images`` (N, 3, 32, 32) and
    ``labels`` (N,) hold the whole split; ``classes`` the names from ``batches.meta.txt``
    when present, else the standard ten.
    """

    def __init__(self, root: PathLike, train: bool = True, normalize: bool = True):
        names = TRAIN_FILES if train else TEST_FILES
        advice = (f"download {URL}, unpack it, and put {', '.join(TRAIN_FILES + TEST_FILES)} "
                  f"in {root}")
        paths = locate_files("CIFAR10", root, names, subdirs=("cifar-10-batches-bin",),
                             advice=advice)
        meta = paths[0].parent / "batches.meta.txt"
        self.classes = (read_class_names(meta, len(CIFAR10_CLASSES)) if meta.is_file()
                        else list(CIFAR10_CLASSES))
        batches = [read_cifar_batch(path, len(self.classes)) for path in paths]
        images = np.concatenate([b[0] for b in batches])
        if normalize:
            images = images.astype(np.float32)
            images /= np.float32(255.0)
        self.root, self.train = root, bool(train)
        self.images = images
        self.labels = np.concatenate([b[1] for b in batches])
        super().__init__(self.images, self.labels)
