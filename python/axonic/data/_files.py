"""Finding and reading dataset files on disk: no downloads, clear errors.

Loaders name the files they expect; ``locate_files`` looks for them in the root directory
and in the sub-directories other tools use (``root/MNIST/raw``...), and when any is
missing raises one ``FileNotFoundError`` that lists every missing name, every directory
searched and where to get the files. ``read_bytes`` reads a file whole, un-gzipping it when
its first bytes are the gzip magic (whatever its name says).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]

GZIP_MAGIC = b"\x1f\x8b"


def locate_files(dataset: str, root: PathLike, names: Sequence[str], *,
                 subdirs: Sequence[str] = (), allow_gz: bool = False,
                 advice: str = "") -> list[Path]:
    """The paths of ``names`` (each optionally with ``.gz`` when ``allow_gz``), looked for
    in ``root`` then in ``root/<subdir>`` for each of ``subdirs``.

    Raises ``FileNotFoundError`` naming every missing file, the directories searched and
    ``advice`` (where to download the files and where to put them).
    """
    root = Path(os.fspath(root)).expanduser()
    directories = [root] + [root / sub for sub in subdirs]
    suffixes = ("", ".gz") if allow_gz else ("",)
    found: list[Path] = []
    missing: list[str] = []
    for name in names:
        candidates = (d / (name + s) for d in directories for s in suffixes)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing.append(name + ("[.gz]" if allow_gz else ""))
        else:
            found.append(path)
    if missing:
        where = str(root) if not subdirs else \
            f"{root} (nor in {', '.join(str(d) for d in directories[1:])})"
        absent = "" if root.is_dir() else f"; {root} does not exist"
        files = ", ".join(missing)
        raise FileNotFoundError(f"{dataset}: {files} not found in {where}{absent}; {advice}")
    return found


def read_bytes(path: PathLike) -> bytes:
    """The contents of ``path``, decompressed when it starts with the gzip magic bytes.

    A corrupt or truncated gzip stream raises ``ValueError`` naming the file.
    """
    with open(path, "rb") as handle:
        raw = handle.read()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: the gzip data is corrupt or truncated ({err})") from err
