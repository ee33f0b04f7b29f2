"""Data loading: ``axonic.data``.

Datasets (``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``), batching
(``DataLoader``, ``default_collate``). Transforms and file-format loaders build on these:
a transform is a callable applied to each batch, a loader returns a ``Dataset``.
"""

from .collate import default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader",
           "default_collate"]
