"""Data loading: ``axonic.data``.

Datasets (``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``), batching
(``DataLoader``, ``default_collate``). Transforms and file-format loaders build on these:
a transform is a callable applied to each batch, a loader returns a ``Dataset``.
"""

from .bundled import load_breast_cancer, load_diabetes, load_digits
from .cifar import CIFAR10
from .collate import default_collate
from .csv_loader import CSVDataset, load_csv
from .dataset import Dataset, Subset, TensorDataset, random_split
from .idx import MNIST, FashionMNIST, load_idx
from .loader import DataLoader
from .preprocessing import StandardScaler, encode_labels, one_hot, standardize
from .splits import train_test_split, train_val_test_split
from .transforms import (
    ColorJitter,
    Compose,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomShift,
)

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate",
           "load_idx", "MNIST", "FashionMNIST", "CIFAR10", "load_csv", "CSVDataset",
           "load_digits", "load_breast_cancer", "load_diabetes",
           "one_hot", "encode_labels", "StandardScaler", "standardize",
           "train_test_split", "train_val_test_split",
           "Compose", "Normalize", "RandomHorizontalFlip", "RandomCrop", "RandomAffine",
           "RandomShift", "ColorJitter"]
