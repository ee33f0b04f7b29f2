"""Numeric tables from CSV files: ``load_csv`` and ``CSVDataset`` (the ``csv`` module, no
pandas).

Every column but the target is a feature and must hold numbers (``1``, ``-2.5e3``,
``nan``, ``inf``; surrounding spaces are fine). The target column may hold numbers or
labels such as ``"setosa"``; ``CSVDataset`` turns labels into class indices.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from ._files import PathLike
from .dataset import TensorDataset
from .preprocessing import encode_labels


def _read_rows(path: PathLike, delimiter: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of ``path`` with their 1-based line numbers."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_csv: {path} not found (or not a file)")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        rows = []
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
        return rows


def _target_index(target: str | int, names: list[str], path: PathLike, header: bool) -> int:
    """The column index of ``target``: a name from the header, or an index (negative
    counts from the end)."""
    if isinstance(target, str):
        if not header:
            raise ValueError(f"{path}: target {target!r} is a column name, but header=False; "
                             f"pass the column index instead")
        if target not in names:
            raise ValueError(f"{path}: no target column {target!r}; the columns are {names}")
        return names.index(target)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"load_csv target must be a column name or index, got {target!r}")
    if not -len(names) <= target < len(names):
        raise ValueError(f"{path}: target column index {target} is out of range for "
                         f"{len(names)} columns {names}")
    return int(target) % len(names)


def _parse_column(cells: np.ndarray, name: str, lines: list[int], path: PathLike,
                  dtype: Any) -> np.ndarray:
    """A column of strings as numbers of ``dtype``; the first bad cell raises
    ``ValueError`` naming its line and column."""
    try:
        return np.char.strip(cells).astype(np.float64).astype(dtype)
    except ValueError:
        for line, cell in zip(lines, cells.tolist()):
            try:
                float(cell)
            except ValueError:
                what = "an empty cell" if not cell.strip() else f"non-numeric value {cell!r}"
                raise ValueError(f"{path}: row {line}, column {name!r} has {what}; feature "
                                 f"columns must be numbers") from None
        raise


def _parse_target(cells: np.ndarray, target_dtype: Any) -> np.ndarray:
    """The target column: as ``target_dtype`` when given; otherwise int64 when every cell
    is an integer, float32 when every cell is a number, else the strings themselves."""
    cells = np.char.strip(cells)
    if target_dtype is not None:
        dtype = np.dtype(target_dtype)
        if dtype.kind in "US":
            return cells.astype(dtype)
        values = cells.astype(np.float64)
        if dtype.kind in "iu" and not np.array_equal(values, np.round(values)):
            raise ValueError(f"target values are not all integers, cannot make {dtype}")
        return values.astype(dtype)
    try:
        return cells.astype(np.int64)
    except ValueError:
        pass
    try:
        return cells.astype(np.float64).astype(np.float32)
    except ValueError:
        return cells


def read_csv_table(path: PathLike, target: str | int, *, delimiter: str = ",",
                   header: bool = True, dtype: Any = np.float32,
                   target_dtype: Any = None) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """``load_csv``'s arrays plus the feature column names and the target column name
    (column numbers as strings, "0", "1"..., when there is no header)."""
    rows = _read_rows(path, delimiter)
    if header:
        if not rows:
            raise ValueError(f"{path}: the file is empty; expected a header line")
        names = [name.strip() for name in rows[0][1]]
        rows = rows[1:]
    else:
        names = [str(i) for i in range(len(rows[0][1]))] if rows else []
    if not rows:
        raise ValueError(f"{path}: no data rows")
    for line, row in rows:
        if len(row) != len(names):
            raise ValueError(f"{path}: row {line} has {len(row)} cells, expected "
                             f"{len(names)} like the {'header' if header else 'first row'}")
    column = _target_index(target, names, path, header)
    lines = [line for line, _ in rows]
    table = np.array([row for _, row in rows], dtype=str).reshape(len(rows), len(names))
    feature_columns = [c for c in range(len(names)) if c != column]
    features = np.empty((len(rows), len(feature_columns)), dtype=dtype)
    for out, c in enumerate(feature_columns):
        features[:, out] = _parse_column(table[:, c], names[c], lines, path, dtype)
    try:
        targets = _parse_target(table[:, column], target_dtype)
    except ValueError as err:
        raise ValueError(f"{path}: target column {names[column]!r}: {err}") from None
    return features, targets, [names[c] for c in feature_columns], names[column]


def load_csv(path: PathLike, target: str | int, *, delimiter: str = ",", header: bool = True,
             dtype: Any = np.float32, target_dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and target from a CSV file.

    Shapes: features (N, F) of ``dtype``, every column but ``target``, in file order;
    target (N,). ``target`` is a column name (needs ``header``) or index (negative counts
    from the end). The target's dtype is ``target_dtype`` when given, else int64 when every
    cell is an integer, float32 when every cell is a number, else the strings. Blank lines
    are skipped; quoted cells follow the ``csv`` module. A non-numeric feature cell, a row
    with the wrong number of cells or a missing target column raises ``ValueError`` naming
    the row (file line number) and column.
    """
    features, targets, _, _ = read_csv_table(path, target, delimiter=delimiter, header=header,
                                             dtype=dtype, target_dtype=target_dtype)
    return features, targets


class CSVDataset(TensorDataset):
    """A CSV file as a dataset of ``(features (F,), target)`` samples (see ``load_csv``).

    A target column of labels (strings) becomes int64 class indices into ``classes`` (the
    sorted distinct labels); a numeric target keeps its dtype and ``classes`` is None.
    ``features`` (N, F), ``targets`` (N,), ``feature_names`` and ``target_name`` hold the
    table.
    """

    def __init__(self, path: PathLike, target: str | int, *, delimiter: str = ",",
                 header: bool = True, dtype: Any = np.float32, target_dtype: Any = None):
        features, targets, feature_names, target_name = read_csv_table(
            path, target, delimiter=delimiter, header=header, dtype=dtype,
            target_dtype=target_dtype)
        self.classes: list | None = None
        if targets.dtype.kind in "US":
            targets, self.classes = encode_labels(targets)
        self.path = path
        self.features, self.targets = features, targets
        self.feature_names, self.target_name = feature_names, target_name
        super().__init__(features, targets)
