"""What every ``axonic bench`` subcommand shares: timing, thread control, the table.

A subcommand fills a :class:`Table` (its columns, the facts of the run in ``meta``, one
row dict per case) and hands it to :func:`report`, which prints it and, on request,
writes it as JSON and as a PNG bar chart. A new benchmark (``bench conv``, ``bench
pool``, ``bench optim``) is a function that builds a Table plus a subparser in cli.py.

JSON written by ``--json FILE``, the same layout for every subcommand::

    {"benchmark": "gemm",                       # the subcommand
     "title": "float32 GEMM, 2 threads, ...",   # the header line printed above the table
     "meta": {"threads": 2, ...},               # facts of the run, per benchmark
     "columns": [{"key": "axonic_gflops", "header": "axonic GFLOP/s"}, ...],
     "results": [{"shape": "512x512x512", "axonic_gflops": 181.2, ...}, ...]}

Each result holds every column's key (null where a peer is absent) and may hold more
fields than the table shows (the GEMM rows also carry m, k, n, max_rel_error...).
"""

from __future__ import annotations

import json
import statistics
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable, TextIO

from .. import _cpu

# Seconds to sleep before timing another library. OpenBLAS and OpenMP workers
# busy-wait for a while after each call; without a pause they steal the next
# library's cores. Tests set it to 0.
SETTLE_SECONDS = 0.3


class BenchError(Exception):
    """A benchmark cannot run as asked (no GPU, no matplotlib...). The CLI prints the
    message and exits with status 2."""


def settle() -> None:
    """Lets the previous library's worker threads stop spinning (see SETTLE_SECONDS)."""
    time.sleep(SETTLE_SECONDS)


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls after settle() and one warm-up call."""
    settle()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class Timing:
    seconds: dict[str, float]  # median seconds per call, per callable
    repeats: int  # timed calls per callable


def interleaved_seconds(fns: Mapping[str, Callable[[], object]], repeats: int,
                        budget_seconds: float = 1.0,
                        on_start: Callable[[str], None] | None = None) -> Timing:
    """Median wall time per call of each callable, timed in interleaved rounds.

    Up to 3 rounds; in each, every callable in turn gets settle(), a warm-up and its
    share of the timed calls (a, b, c, a, b, c...), so a neighbour that loads the
    machine for a while slows every side alike. The first call of the first callable
    estimates the cost of one, and the number of timed calls is set so that each
    callable's take about ``budget_seconds``: at most ``repeats`` for long calls (at
    least 1), and up to 1000 for short ones, whose single calls are too noisy to judge.
    The warm-up repeats the call for 20 ms: after settle() the worker threads sleep,
    and waking them costs more than a small product, which back-to-back calls in a
    training loop never pay.
    ``on_start(name)`` is called before each callable's turn (progress display).
    """
    names = list(fns)
    settle()
    start = time.perf_counter()
    fns[names[0]]()
    estimate = time.perf_counter() - start
    per_call = max(estimate, 1e-9)
    if per_call > 0.01:  # long calls: at most the user's repeats, within the budget
        repeats = max(1, min(repeats, int(budget_seconds / per_call)))
    else:  # short calls: as many as fit the budget, up to 1000
        repeats = max(repeats, min(1000, int(budget_seconds / per_call)))
    rounds = min(repeats, 3)
    shares = [repeats // rounds + (r < repeats % rounds) for r in range(rounds)]
    times: dict[str, list[float]] = {name: [] for name in names}
    for r, share in enumerate(shares):
        for i, name in enumerate(names):
            if on_start is not None:
                on_start(name)
            fn = fns[name]
            if not (r == 0 and i == 0):  # the estimate was that one's warm-up
                settle()
                if r == 0 or estimate < 0.05:
                    warm_until = time.perf_counter() + 0.02
                    fn()
                    while time.perf_counter() < warm_until:
                        fn()
            for _ in range(share):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return Timing({name: statistics.median(t) for name, t in times.items()}, repeats)


def optional_torch() -> ModuleType | None:
    """PyTorch when it is installed (a peer column), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def numpy_blas() -> str | None:
    """The BLAS behind numpy.matmul and the kernel it picked for this CPU, as threadpoolctl
    reports them ("openblas SkylakeX": OpenBLAS's AVX-512 kernels, "Haswell" its AVX2
    ones); None when threadpoolctl is missing or finds no BLAS."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    libraries = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    # NumPy's wheels bundle their BLAS under numpy.libs; PyTorch may load another.
    libraries.sort(key=lambda lib: "numpy" not in str(lib.get("filepath", "")))
    if not libraries:
        return None
    name, kernel = libraries[0].get("internal_api", "blas"), libraries[0].get("architecture")
    return f"{name} {kernel}" if kernel else name


@contextmanager
def thread_count(threads: int | None, torch: ModuleType | None = None,
                 blas: bool = False) -> Iterator[int]:
    """Runs axonic (and PyTorch, and NumPy's BLAS when ``blas``) on one thread count:
    ``threads``, or axonic's current count (axonic.set_num_threads, AXONIC_NUM_THREADS,
    OMP_NUM_THREADS). Yields the count; restores the previous counts on exit. NumPy's
    BLAS is limited through threadpoolctl (a dependency of axonic); where it is missing
    a warning says that NumPy keeps its own count."""
    previous = _cpu.get_num_threads()
    n = threads or previous
    _cpu.set_num_threads(n)
    torch_previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    limiter = None
    if blas:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            warnings.warn("threadpoolctl is not installed, so NumPy's BLAS keeps its own "
                          f"thread count instead of {n}: pip install threadpoolctl",
                          RuntimeWarning, stacklevel=3)
        else:
            limiter = threadpool_limits(limits=n, user_api="blas")
    try:
        yield n
    finally:
        _cpu.set_num_threads(previous)
        if torch is not None:
            torch.set_num_threads(torch_previous)
        if limiter is not None:
            limiter.restore_original_limits()


class Progress:
    """One status line on stderr ("measuring 2048x2048x2048 (numpy)..."), rewritten in
    place with \\r so a long run never looks hung. Silent when stderr is not a terminal,
    so logs do not fill with carriage returns."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = 0

    def show(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r" + text.ljust(self.width))
            self.stream.flush()
            self.width = max(self.width, len(text))

    def clear(self) -> None:
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def plural(count: int, noun: str) -> str:
    """'1 thread', '2 threads'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    lines = [line(row) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class Column:
    """One column: the row key that feeds it (and its JSON name), its header, a
    str.format pattern for its value (None prints "-"), and whether --plot draws it
    as one series of bars."""

    key: str
    header: str
    fmt: str = "{}"
    plot: bool = False

    def cell(self, value: object) -> str:
        return "-" if value is None else self.fmt.format(value)


@dataclass
class Table:
    """A benchmark's result: a title line, columns and rows (dicts keyed by column
    key). The first column labels the rows (and the plot's groups of bars)."""

    benchmark: str
    title: str
    columns: list[Column]
    meta: dict[str, object] = field(default_factory=dict)
    rows: list[dict[str, object]] = field(default_factory=list)
    unit: str = "GFLOP/s"  # the plotted columns' unit, the chart's y label

    def add(self, row: dict[str, object]) -> None:
        self.rows.append({c.key: None for c in self.columns} | row)

    def render(self) -> str:
        body = format_table([c.header for c in self.columns],
                            [[c.cell(row[c.key]) for c in self.columns] for row in self.rows])
        return f"{self.title}\n{body}"

    def to_json(self) -> dict[str, object]:
        return {"benchmark": self.benchmark, "title": self.title, "meta": self.meta,
                "columns": [{"key": c.key, "header": c.header} for c in self.columns],
                "results": self.rows}

    def write_json(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(self.to_json(), f, indent=2)
            f.write("\n")

    def plot(self, path: str) -> None:
        """A grouped bar chart: one group per row, one bar per plotted column."""
        plt = require_matplotlib()
        series = [c for c in self.columns if c.plot]
        labels = [str(row[self.columns[0].key]) for row in self.rows]
        width = 0.8 / max(len(series), 1)
        fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.5))
        for i, column in enumerate(series):
            values = [row[column.key] or 0.0 for row in self.rows]
            positions = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
            ax.bar(positions, values, width, label=column.header.replace(f" {self.unit}", ""))
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(self.unit)
        ax.set_title(textwrap.fill(self.title, 80), fontsize=8)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def require_matplotlib() -> ModuleType:
    """matplotlib.pyplot on the file-only Agg backend, or BenchError with the hint."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise BenchError("--plot needs matplotlib: pip install 'axonic[plot]'") from error
    return plt


def report(table: Table, json_path: str | None = None, plot_path: str | None = None,
           stream: TextIO | None = None) -> None:
    """Prints the table; writes it as JSON and as a PNG bar chart when asked."""
    out = stream or sys.stdout
    print(table.render(), file=out)
    if json_path:
        table.write_json(json_path)
        print(f"wrote {json_path}", file=out)
    if plot_path:
        table.plot(plot_path)
        print(f"wrote {plot_path}", file=out)
