"""The IDX file format of MNIST and Fashion-MNIST: ``load_idx``, ``MNIST``, ``FashionMNIST``.

An IDX file is a header and the data, big-endian: two zero bytes, a type code (0x08
uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
dimensions ``ndim``, then ``ndim`` int32 sizes, then the elements in C order. Files may be
gzipped (recognised by their magic bytes, not their name). Nothing is downloaded: the
datasets read the files a user already has.
"""

from __future__ import annotations

import struct

import numpy as np

from ._files import PathLike, locate_files, read_bytes
from .dataset import TensorDataset

IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_idx(path: PathLike) -> np.ndarray:
    """The array stored in the IDX file ``path`` (raw or gzipped), in native byte order.

    Shape: the ``ndim`` sizes of the header, e.g. (60000, 28, 28) for MNIST images and
    (60000,) for labels. Dtype: from the type code (uint8, int8, int16, int32, float32,
    float64). A bad magic number, an unknown type code, or data shorter or longer than the
    header says raise ``ValueError`` naming the file and the problem.
    """
    raw = read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: not an IDX file: {len(raw)} bytes, shorter than the "
                         f"4-byte magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file: the magic number must start with two "
                         f"zero bytes, got {raw[:4].hex(' ')}")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; known codes: {known}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header: {ndim} dimensions need {header} "
                         f"bytes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}i", raw[4:header])
    if any(size < 0 for size in shape):
        raise ValueError(f"{path}: negative dimension size in the IDX header: {shape}")
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header
    if actual < expected:
        raise ValueError(f"{path}: truncated IDX data: shape {shape} of {dtype.name} needs "
                         f"{expected} bytes after the header, the file has {actual}")
    if actual > expected:
        raise ValueError(f"{path}: {actual - expected} unexpected bytes after the IDX data "
                         f"of shape {shape} ({dtype.name})")
    array = np.frombuffer(raw, dtype=dtype, offset=header, count=expected // dtype.itemsize)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


class _IDXImageDataset(TensorDataset):
    """Images and labels from a pair of IDX files (the MNIST layout).

    Samples are ``(image, label)``: image (1, H, W) float32 in [0, 1] when ``normalize``
    (uint8 in [0, 255] otherwise), label an int64 scalar. ``images`` (N, 1, H, W) and
    ``labels`` (N,) hold the whole split as NumPy arrays, ``classes`` the class names.
    """

    name = ""
    url = ""
    subdir = ""
    classes: list[str] = []
    files = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root: PathLike, train: bool = True, normalize: bool = True):
        names = self.files[bool(train)]
        advice = (f"download the four IDX files ({', '.join(self.files[True] + self.files[False])}"
                  f", gzipped or not) from {self.url} and put them in {root}")
        image_path, label_path = locate_files(self.name, root, names, allow_gz=True,
                                              subdirs=(f"{self.subdir}/raw",), advice=advice)
        images, labels = load_idx(image_path), load_idx(label_path)
        if images.ndim != 3:
            raise ValueError(f"{image_path}: {self.name} images must be a 3-d IDX array "
                             f"(N, H, W), got shape {images.shape}")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(f"{label_path}: {self.name} labels must be a 1-d integer IDX "
                             f"array (N,), got shape {labels.shape} of {labels.dtype}")
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{self.name}: {image_path} holds {images.shape[0]} images but "
                             f"{label_path} holds {labels.shape[0]} labels")
        bad = labels[(labels < 0) | (labels >= len(self.classes))]
        if bad.size:
            raise ValueError(f"{label_path}: label {int(bad[0])} is outside 0.."
                             f"{len(self.classes) - 1}")
        images = images[:, None, :, :]
        if normalize:
            images = images.astype(np.float32)
            images /= np.float32(255.0)
        self.root, self.train = root, bool(train)
        self.images = images
        self.labels = labels.astype(np.int64)
        super().__init__(self.images, self.labels)


class MNIST(_IDXImageDataset):
    """The MNIST handwritten digits from the four IDX files in ``root``.

    ``train`` picks the 60000-image training split (``train-*``) or the 10000-image test
    split (``t10k-*``). Samples are ``(image, label)`` with image (1, 28, 28) float32 in
    [0, 1] (uint8 when ``normalize`` is False) and label an int64 in 0..9. Files are also
    found in ``root/MNIST/raw`` (where torchvision keeps them).
    """

    name = "MNIST"
    url = "https://ossci-datasets.s3.amazonaws.com/mnist/ (or http://yann.lecun.com/exdb/mnist/)"
    subdir = "MNIST"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]


class FashionMNIST(_IDXImageDataset):
    """Zalando's Fashion-MNIST clothing images, in MNIST's IDX layout and file names.

    Samples are ``(image, label)`` with image (1, 28, 28) float32 in [0, 1] (uint8 when
    ``normalize`` is False) and label an int64 in 0..9 (see ``classes``). Files are also
    found in ``root/FashionMNIST/raw``.
    """

    name = "FashionMNIST"
    url = "https://github.com/zalandoresearch/fashion-mnist (the data/fashion folder)"
    subdir = "FashionMNIST"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
