"""axonic.data file formats (IDX, CIFAR-10 binary, CSV), scikit-learn's bundled data,
preprocessing (one_hot, StandardScaler) and train/test splits.

Every file is built here byte by byte in tmp_path, so the readers are checked against an
independent writer; scikit-learn is the oracle for the preprocessing and split sizes.
"""

from __future__ import annotations

import gzip
import struct
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic.data import (
    CIFAR10,
    MNIST,
    CSVDataset,
    DataLoader,
    FashionMNIST,
    StandardScaler,
    Subset,
    TensorDataset,
    encode_labels,
    load_breast_cancer,
    load_csv,
    load_diabetes,
    load_digits,
    load_idx,
    one_hot,
    standardize,
    train_test_split,
    train_val_test_split,
)
from conftest import assert_close, to_numpy

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray, code: int | None = None) -> bytes:
    """An IDX file's bytes, written by hand: 0, 0, type code, ndim, big-endian dims, data."""
    code = IDX_CODES[array.dtype.type] if code is None else code
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def sample_array(dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


# ----- IDX ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", list(IDX_CODES))
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_round_trips(tmp_path, dtype, shape, gz):
    array = sample_array(dtype, shape)
    loaded = load_idx(write(tmp_path / "a.idx", idx_bytes(array), gz=gz))
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    assert loaded.shape == shape
    np.testing.assert_array_equal(loaded, array)


def test_load_idx_detects_gzip_by_magic_not_name(tmp_path):
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    gzipped = write(tmp_path / "plain-name", idx_bytes(array), gz=True)
    raw = write(tmp_path / "misleading.gz", idx_bytes(array))
    np.testing.assert_array_equal(load_idx(gzipped), array)
    np.testing.assert_array_equal(load_idx(raw), array)


def test_load_idx_empty_dimension(tmp_path):
    loaded = load_idx(write(tmp_path / "e.idx", idx_bytes(np.zeros((0, 3), np.uint8))))
    assert loaded.shape == (0, 3)


GOOD = idx_bytes(np.arange(12, dtype=np.int32).reshape(3, 4))


@pytest.mark.parametrize("data,problem", [
    (b"\x00\x00", "shorter than the 4-byte magic"),
    (b"\x01\x00" + GOOD[2:], "two zero bytes"),
    (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX type code 0x0A"),
    (GOOD[:7], "truncated IDX header"),
    (GOOD[:-1], "truncated IDX data"),
    (GOOD + b"\x00", "1 unexpected bytes"),
    (gzip.compress(GOOD)[:-6], "gzip data is corrupt or truncated"),
])
def test_load_idx_malformed_files_name_file_and_problem(tmp_path, data, problem):
    path = write(tmp_path / "broken.idx", data)
    with pytest.raises(ValueError, match=problem) as info:
        load_idx(path)
    assert str(path) in str(info.value)


def write_mnist(root: Path, prefix: str, n: int, gz: bool = False, seed: int = 0,
                labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    images = sample_array(np.uint8, (n, 28, 28), seed)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    suffix = ".gz" if gz else ""
    write(root / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), gz=gz)
    write(root / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), gz=gz)
    return images, labels


@pytest.mark.parametrize("train,prefix", [(True, "train"), (False, "t10k")])
def test_mnist_reads_both_splits(tmp_path, train, prefix):
    images, labels = write_mnist(tmp_path, prefix, 12)
    write_mnist(tmp_path, "t10k" if train else "train", 3, seed=1)  # the other split
    ds = MNIST(tmp_path, train=train)
    assert isinstance(ds, TensorDataset) and len(ds) == 12
    assert ds.images.shape == (12, 1, 28, 28) and ds.images.dtype == np.float32
    assert ds.labels.dtype == np.int64
    assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    assert_close(ds.images[:, 0], images.astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.labels, labels)
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and int(y) == labels[3]
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 1, 28, 28) and yb.dtype == np.int64
    assert ds.classes[3] == "3 - three"


def test_mnist_raw_pixels_without_normalize(tmp_path):
    images, _ = write_mnist(tmp_path, "train", 4)
    ds = MNIST(tmp_path, normalize=False)
    assert ds.images.dtype == np.uint8
    np.testing.assert_array_equal(ds.images[:, 0], images)


def test_fashion_mnist_reads_gzipped_files_in_torchvision_layout(tmp_path):
    images, labels = write_mnist(tmp_path / "FashionMNIST" / "raw", "t10k", 6, gz=True)
    ds = FashionMNIST(tmp_path, train=False)
    assert_close(ds.images[:, 0], images.astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.classes[9] == "Ankle boot"


def test_mnist_missing_files_say_what_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path)
    message = str(info.value)
    for expected in ("MNIST", "train-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]",
                     str(tmp_path), "download", "t10k-images-idx3-ubyte"):
        assert expected in message
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((1, 28, 28), np.uint8)))
    with pytest.raises(FileNotFoundError, match="train-labels") as info:
        MNIST(tmp_path)
    assert "train-images-idx3-ubyte[.gz]," not in str(info.value)


def test_mnist_count_mismatch_names_both_files(tmp_path):
    write_mnist(tmp_path, "train", 5, labels=np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but .* holds 4 labels") as info:
        MNIST(tmp_path)
    assert "train-images-idx3-ubyte" in str(info.value)
    assert "train-labels-idx1-ubyte" in str(info.value)


def test_mnist_rejects_bad_shapes_and_labels(tmp_path):
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((2, 784), np.uint8)))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(ValueError, match=r"3-d IDX array \(N, H, W\), got shape \(2, 784\)"):
        MNIST(tmp_path)
    write_mnist(tmp_path, "train", 3, labels=np.array([1, 10, 2], np.uint8))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: label 10 is outside 0..9"):
        MNIST(tmp_path)


# ----- CIFAR-10 -----------------------------------------------------------------------------
def cifar_records(labels: list[int], seed: int) -> tuple[bytes, np.ndarray]:
    pixels = sample_array(np.uint8, (len(labels), 3072), seed)
    records = np.concatenate([np.array(labels, np.uint8)[:, None], pixels], axis=1)
    return records.tobytes(), pixels.reshape(-1, 3, 32, 32)


def write_cifar(root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Five tiny training batches and a test batch; returns each split's images, labels."""
    splits = {"train": ([], []), "test": ([], [])}
    for i, labels in enumerate([[0, 1], [2], [3, 4, 5], [6], [7, 8, 9]], start=1):
        data, images = cifar_records(labels, seed=i)
        write(root / f"data_batch_{i}.bin", data)
        splits["train"][0].append(images)
        splits["train"][1].extend(labels)
    data, images = cifar_records([9, 0, 4], seed=9)
    write(root / "test_batch.bin", data)
    splits["test"][0].append(images)
    splits["test"][1].extend([9, 0, 4])
    return {k: (np.concatenate(v[0]), np.array(v[1])) for k, v in splits.items()}


@pytest.mark.parametrize("train", [True, False])
def test_cifar10_reads_batches(tmp_path, train):
    expected_images, expected_labels = write_cifar(tmp_path)["train" if train else "test"]
    ds = CIFAR10(tmp_path, train=train)
    assert len(ds) == len(expected_labels)
    assert ds.images.shape == (len(ds), 3, 32, 32) and ds.images.dtype == np.float32
    assert ds.labels.dtype == np.int64
    assert_close(ds.images, expected_images.astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.labels, expected_labels)
    assert ds.classes[0] == "airplane" and len(ds.classes) == 10
    raw = CIFAR10(tmp_path, train=train, normalize=False)
    np.testing.assert_array_equal(raw.images, expected_images)


def test_cifar10_pixels_are_channel_planes(tmp_path):
    pixels = np.zeros(3072, np.uint8)
    pixels[:1024] = 255  # the red plane
    pixels[1024 + 32] = 7  # green, row 1, column 0
    write(tmp_path / "cifar-10-batches-bin" / "test_batch.bin", bytes([3]) + pixels.tobytes())
    ds = CIFAR10(tmp_path, train=False, normalize=False)
    assert (ds.images[0, 0] == 255).all() and ds.images[0, 2].max() == 0
    assert ds.images[0, 1, 1, 0] == 7 and ds.images[0, 1].sum() == 7
    assert ds.labels.tolist() == [3]


def test_cifar10_class_names_from_meta_file(tmp_path):
    write_cifar(tmp_path)
    names = [f"class{i}" for i in range(10)]
    (tmp_path / "batches.meta.txt").write_text("\n".join(names) + "\n\n")
    assert CIFAR10(tmp_path, train=False).classes == names
    (tmp_path / "batches.meta.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match="batches.meta.txt: expected 10 class names"):
        CIFAR10(tmp_path, train=False)


@pytest.mark.parametrize("data,problem", [
    (bytes(3073 * 2 - 5), "not a multiple of the 3073-byte record"),
    (b"", "empty"),
    (bytes([1]) + bytes(3072) + bytes([10]) + bytes(3072), "record 1 has label 10"),
])
def test_cifar10_malformed_batch_names_file(tmp_path, data, problem):
    write_cifar(tmp_path)
    path = write(tmp_path / "test_batch.bin", data)
    with pytest.raises(ValueError, match=problem) as info:
        CIFAR10(tmp_path, train=False)
    assert str(path) in str(info.value)


def test_cifar10_missing_batches_are_listed(tmp_path):
    write_cifar(tmp_path)
    (tmp_path / "data_batch_2.bin").unlink()
    (tmp_path / "data_batch_5.bin").unlink()
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(tmp_path)
    message = str(info.value)
    assert "data_batch_2.bin, data_batch_5.bin not found" in message
    assert str(tmp_path) in message and "cifar-10-binary.tar.gz" in message
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CIFAR10(tmp_path / "nowhere", train=False)


# ----- CSV ----------------------------------------------------------------------------------
def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_with_header_and_named_target(tmp_path):
    path = write_text(tmp_path / "t.csv", "a,label,b\n1,0,2.5\n-3e1,2,nan\n\n4, 1 ,5\n")
    x, y = load_csv(path, "label")
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, np.array([[1, 2.5], [-30, np.nan], [4, 5]], np.float32))
    np.testing.assert_array_equal(y, [0, 2, 1])
    x_last, y_first = load_csv(path, 0, dtype=np.float64)
    assert x_last.dtype == np.float64 and x_last.shape == (3, 2)
    np.testing.assert_array_equal(y_first, [1, -30, 4])  # "-3e1" is not an integer literal
    assert y_first.dtype == np.float32
    _, y_neg = load_csv(path, -1, target_dtype=np.float64)
    assert y_neg.dtype == np.float64 and np.isnan(y_neg[1])


def test_load_csv_without_header_and_other_delimiter(tmp_path):
    path = write_text(tmp_path / "t.txt", "1;2;0.5\n3;4;1.5\n")
    x, y = load_csv(path, 2, delimiter=";", header=False)
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, np.array([0.5, 1.5], np.float32))
    with pytest.raises(ValueError, match="header=False; pass the column index"):
        load_csv(path, "y", delimiter=";", header=False)


def test_load_csv_quoted_cells_and_string_target(tmp_path):
    text = ('\ufeff"x 1","x,2",species\n"1.5",2,"setosa"\n3,"4","iris, virginica"\n'
            '5,6,setosa\n')
    path = write_text(tmp_path / "q.csv", text)
    x, y = load_csv(path, "species")
    np.testing.assert_array_equal(x, [[1.5, 2], [3, 4], [5, 6]])
    assert y.tolist() == ["setosa", "iris, virginica", "setosa"]
    ds = CSVDataset(path, "species")
    assert ds.classes == ["iris, virginica", "setosa"]
    np.testing.assert_array_equal(ds.targets, [1, 0, 1])
    assert ds.targets.dtype == np.int64
    assert ds.feature_names == ["x 1", "x,2"] and ds.target_name == "species"
    features, target = ds[1]
    np.testing.assert_array_equal(features.numpy(), [3, 4])
    assert int(target) == 0


def test_csv_dataset_numeric_target_batches(tmp_path):
    path = write_text(tmp_path / "r.csv", "f,g,y\n" + "".join(
        f"{i},{i * 2},{i / 4}\n" for i in range(7)))
    ds = CSVDataset(path, "y")
    assert ds.classes is None and len(ds) == 7
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 2) and yb.dtype == np.float32
    assert_close(yb, np.arange(4) / 4)


@pytest.mark.parametrize("text,problem", [
    ("a,b,y\n1,2,0\n1,oops,1\n", "row 3, column 'b' has non-numeric value 'oops'"),
    ("a,b,y\n1,,0\n", "row 2, column 'a'|row 2, column 'b' has an empty cell"),
    ("a,b,y\n1,2,0\n1,2\n", "row 3 has 2 cells, expected 3"),
    ("", "the file is empty"),
    ("a,b,y\n", "no data rows"),
])
def test_load_csv_malformed_rows(tmp_path, text, problem):
    path = write_text(tmp_path / "bad.csv", text)
    with pytest.raises(ValueError, match=problem) as info:
        load_csv(path, "y")
    assert str(path) in str(info.value)


def test_load_csv_target_errors(tmp_path):
    path = write_text(tmp_path / "t.csv", "a,b,y\n1,2,0.5\n")
    with pytest.raises(ValueError, match=r"no target column 'label'; the columns are "
                                         r"\['a', 'b', 'y'\]"):
        load_csv(path, "label")
    with pytest.raises(ValueError, match="index 3 is out of range for 3 columns"):
        load_csv(path, 3)
    with pytest.raises(ValueError, match="target column 'y': .*not all integers"):
        load_csv(path, "y", target_dtype=np.int64)
    with pytest.raises(FileNotFoundError, match="missing.csv not found"):
        load_csv(tmp_path / "missing.csv", "y")


# ----- scikit-learn's bundled data ----------------------------------------------------------
@pytest.mark.parametrize("loader,x_shape,y_dtype", [
    (load_digits, (1797, 64), np.int64),
    (load_breast_cancer, (569, 30), np.int64),
    (load_diabetes, (442, 10), np.float32),
])
def test_bundled_loaders_shapes_and_dtypes(loader, x_shape, y_dtype):
    x, y = loader()
    assert x.shape == x_shape and x.dtype == np.float32
    assert y.shape == (x_shape[0],) and y.dtype == y_dtype


def test_bundled_loader_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "axonic\[datasets\]"'):
        load_digits()


# ----- one_hot, encode_labels ---------------------------------------------------------------
def test_one_hot_hand_values_and_shapes():
    out = one_hot(np.array([2, 0, 1, 2]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert one_hot([1, 0], num_classes=4).tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    assert one_hot(np.array([[0, 1], [1, 1]], np.uint8)).shape == (2, 2, 2)
    np.testing.assert_array_equal(one_hot(axonic.tensor([1, 0])), [[0, 1], [1, 0]])
    assert one_hot(np.zeros(0, np.int64), num_classes=3).shape == (0, 3)


def test_one_hot_matches_sklearn():
    from sklearn.preprocessing import OneHotEncoder

    labels = np.random.default_rng(0).integers(0, 7, size=50)
    encoder = OneHotEncoder(categories=[list(range(7))], sparse_output=False)
    np.testing.assert_array_equal(one_hot(labels, 7), encoder.fit_transform(labels[:, None]))


@pytest.mark.parametrize("labels,num_classes,error,problem", [
    ([0, -1], None, ValueError, "label -1 is outside 0..0"),
    ([0, 3], 3, ValueError, r"label 3 is outside 0..2 \(num_classes=3\)"),
    ([0.0, 1.0], None, TypeError, "integer labels"),
    (np.zeros(0, np.int64), None, ValueError, "cannot infer num_classes"),
    ([0, 1], 0, ValueError, "positive integer"),
])
def test_one_hot_rejects_bad_labels(labels, num_classes, error, problem):
    with pytest.raises(error, match=problem):
        one_hot(labels, num_classes)


def test_encode_labels():
    codes, classes = encode_labels(np.array(["b", "a", "c", "a"]))
    assert classes == ["a", "b", "c"] and codes.tolist() == [1, 0, 2, 0]
    assert codes.dtype == np.int64


# ----- StandardScaler, standardize ----------------------------------------------------------
def scaler_data(dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 5)) * [1, 10, 0.1, 3, 1] + [0, 5, -2, 100, 0]
    x[:, 4] = 7.25  # zero variance: centred, left unscaled
    return x.astype(dtype)


@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False)])
def test_standard_scaler_matches_sklearn(with_mean, with_std):
    from sklearn.preprocessing import StandardScaler as SkScaler

    x, x_new = scaler_data(), scaler_data()[:7] * 1.5
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(x)
    theirs = SkScaler(with_mean=with_mean, with_std=with_std).fit(x)
    for name in ("mean_", "var_", "scale_"):
        if getattr(theirs, name) is None:
            assert getattr(ours, name) is None
        else:
            assert_close(getattr(ours, name), getattr(theirs, name))
    assert_close(ours.transform(x_new), theirs.transform(x_new))
    assert_close(ours.fit_transform(x), theirs.fit_transform(x))
    assert_close(ours.inverse_transform(x_new), theirs.inverse_transform(x_new))


def test_standard_scaler_hand_values_and_dtypes():
    x = np.array([[1, 10], [3, 10]], np.int64)
    scaler = StandardScaler()
    out = scaler.fit_transform(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[-1, 0], [1, 0]])
    np.testing.assert_array_equal(scaler.mean_, [2, 10])
    np.testing.assert_array_equal(scaler.scale_, [1, 1])
    x32 = scaler_data(np.float32)
    scaled = StandardScaler().fit_transform(x32)
    assert scaled.dtype == np.float32
    assert_close(scaled[:, :4].mean(axis=0), np.zeros(4), atol=1e-5)
    assert_close(scaled[:, :4].std(axis=0), np.ones(4))
    assert (scaled[:, 4] == 0).all()
    assert_close(StandardScaler().fit(x32).inverse_transform(scaled), x32)


def test_standard_scaler_errors():
    with pytest.raises(RuntimeError, match="before fit"):
        StandardScaler().transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"2-d array \(N, F\), got shape \(3,\); reshape"):
        StandardScaler().fit(np.ones(3))
    with pytest.raises(ValueError, match="got 3 features, but the scaler was fitted on 2"):
        StandardScaler().fit(np.ones((4, 2))).transform(np.ones((4, 3)))
    with pytest.raises(ValueError, match="non-finite value nan at row 1, column 0"):
        StandardScaler().fit(np.array([[1.0, 2.0], [np.nan, 1.0]]))
    with pytest.raises(ValueError, match="at least one sample"):
        StandardScaler().fit(np.ones((0, 2)))


def test_standardize_uses_train_statistics_only():
    x = scaler_data()
    train, test = x[:30], x[30:]
    train_s, test_s = standardize(train, test)
    scaler = StandardScaler().fit(train)
    assert_close(train_s, scaler.transform(train))
    assert_close(test_s, (test - scaler.mean_) / scaler.scale_)
    (alone,) = standardize(train)
    assert_close(alone, train_s)


# ----- splits -------------------------------------------------------------------------------
def assert_partition(parts: list[np.ndarray], n: int) -> None:
    """The parts are disjoint and together cover range(n)."""
    joined = np.concatenate(parts)
    assert joined.size == n and np.array_equal(np.sort(joined), np.arange(n))


@pytest.mark.parametrize("n,test_size", [(10, 0.25), (101, 0.3), (7, 0.5), (50, 13),
                                         (20, 0.01)])
def test_train_test_split_sizes_match_sklearn(n, test_size):
    from sklearn.model_selection import train_test_split as sk_split

    x = np.arange(n)
    train, test = train_test_split(x, test_size=test_size, seed=0)
    sk_train, sk_test = sk_split(x, test_size=test_size, random_state=0)
    assert (train.size, test.size) == (sk_train.size, sk_test.size)
    assert_partition([train, test], n)


def test_train_test_split_keeps_rows_aligned_and_types():
    x = np.arange(30, dtype=np.float32).reshape(15, 2)
    y = np.arange(15) * 10
    names = [f"s{i}" for i in range(15)]
    ds = TensorDataset(x, y)
    x_tr, x_te, y_tr, y_te, t_tr, t_te, n_tr, n_te, d_tr, d_te = train_test_split(
        x, y, axonic.tensor(y), names, ds, test_size=5, seed=3)
    assert x_tr.shape == (10, 2) and x_te.shape == (5, 2) and y_te.shape == (5,)
    np.testing.assert_array_equal(x_tr[:, 0] * 5, y_tr)
    np.testing.assert_array_equal(x_te[:, 0] * 5, y_te)
    assert isinstance(t_tr, axonic.Tensor) and to_numpy(t_te).tolist() == y_te.tolist()
    assert n_te == [f"s{v // 10}" for v in y_te]
    assert isinstance(d_tr, Subset) and len(d_te) == 5
    assert to_numpy(d_te[0][1]).item() == y_te[0]
    assert_partition([y_tr // 10, y_te // 10], 15)


def test_train_test_split_is_reproducible():
    x = np.arange(40)
    a = train_test_split(x, seed=5)
    b = train_test_split(x, seed=5)
    c = train_test_split(x, seed=6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[1], c[1])
    axonic.manual_seed(11)
    d = train_test_split(x)
    axonic.manual_seed(11)
    assert np.array_equal(d[1], train_test_split(x)[1])


def test_train_test_split_without_shuffle_takes_the_tail():
    train, test = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
    assert train.tolist() == list(range(7)) and test.tolist() == [7, 8, 9]


@pytest.mark.parametrize("test_size", [0.2, 0.33, 17])
def test_train_test_split_stratify_keeps_proportions(test_size):
    labels = np.repeat(np.array(["a", "b", "c"]), [50, 30, 20])
    idx = np.arange(100)
    train, test = train_test_split(idx, test_size=test_size, seed=1, stratify=labels)
    assert_partition([train, test], 100)
    n_test = test.size
    counts = Counter(labels[test].tolist())
    for cls, size in (("a", 50), ("b", 30), ("c", 20)):
        assert abs(counts[cls] - n_test * size / 100) < 1
    if test_size == 0.2:
        assert counts == {"a": 10, "b": 6, "c": 4}
    changes = np.count_nonzero(labels[test][1:] != labels[test][:-1])
    assert changes > 2  # shuffled, not grouped by class


@pytest.mark.parametrize("kwargs,error,problem", [
    ({"test_size": 0.0}, ValueError, "strictly between 0 and 1"),
    ({"test_size": 1.0}, ValueError, "strictly between 0 and 1"),
    ({"test_size": 10}, ValueError, "between 1 and 9 for 10 samples"),
    ({"test_size": True}, TypeError, "fraction or an int count"),
    ({"seed": -1}, ValueError, "non-negative integer"),
    ({"stratify": [0] * 5 + [1] * 5, "shuffle": False}, ValueError, "shuffle=True"),
    ({"stratify": [0] * 9 + [1]}, ValueError, "class 1 has only 1 sample"),
    ({"stratify": [0, 1, 2, 3, 4] * 2, "test_size": 0.2}, ValueError,
     "test part has 2 samples, fewer than the 5 classes"),
    ({"stratify": [0, 1]}, ValueError, r"stratify must be 1-d labels for the 10 samples"),
])
def test_train_test_split_rejects_bad_arguments(kwargs, error, problem):
    with pytest.raises(error, match=problem):
        train_test_split(np.arange(10), **kwargs)


def test_train_test_split_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match=r"same length, got lengths \[10, 9\]"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()


def test_train_val_test_split_sizes_partition_and_alignment():
    x, y = np.arange(100), np.arange(100) * 2
    parts = train_val_test_split(x, y, val_size=0.15, test_size=20, seed=0)
    x_tr, x_val, x_te, y_tr, y_val, y_te = parts
    assert (x_tr.size, x_val.size, x_te.size) == (65, 15, 20)
    assert_partition([x_tr, x_val, x_te], 100)
    for xs, ys in ((x_tr, y_tr), (x_val, y_val), (x_te, y_te)):
        np.testing.assert_array_equal(xs * 2, ys)
    again = train_val_test_split(x, y, val_size=0.15, test_size=20, seed=0)
    assert all(np.array_equal(p, q) for p, q in zip(parts, again))


def test_train_val_test_split_stratify_keeps_proportions():
    labels = np.repeat([0, 1, 2, 3], [40, 30, 20, 10])
    train, val, test = train_val_test_split(np.arange(100), val_size=0.2, test_size=0.1,
                                            seed=2, stratify=labels)
    assert_partition([train, val, test], 100)
    for part, size in ((train, 70), (val, 20), (test, 10)):
        assert part.size == size
        counts = np.bincount(labels[part], minlength=4)
        assert np.all(np.abs(counts - size * np.array([40, 30, 20, 10]) / 100) < 1)


def test_train_val_test_split_rejects_oversized_parts():
    with pytest.raises(ValueError, match="leave no training samples out of 10"):
        train_val_test_split(np.arange(10), val_size=0.5, test_size=0.5)
    with pytest.raises(TypeError):
        train_val_test_split(np.arange(10), test_size=0.2)  # val_size is required
