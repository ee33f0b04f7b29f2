"""``axonic bench peak``: the FMA throughput ceiling of this CPU for the ISA in use.

It runs ``_cpu.fma_peak`` (independent fused multiply-add chains on full vectors on
every thread, see csrc/cpu/fma_peak.h), the figure ``bench gemm`` divides by for its
"% of peak" column. Rows: one per thread, then the total. JSON rows (see core for the
layout): {"thread": "0" | ... | "total", "gflops": float}; meta holds dtype, seconds,
isa, vector_bits, threads and gflops (the total).
"""

from __future__ import annotations

from .. import _cpu
from .core import Column, Table, plural, report, thread_count


def peak_table(dtype: str = "float32", seconds: float = 0.5,
               threads: int | None = None) -> Table:
    """Measures the peak on ``threads`` threads (default: axonic's current count)."""
    with thread_count(threads):
        peak = _cpu.fma_peak(dtype, seconds)
    lanes = peak["vector_bits"] // (32 if dtype == "float32" else 64)
    title = (f"{dtype} FMA peak: {peak['isa']} ({peak['vector_bits']}-bit vectors, "
             f"{lanes} lanes), {plural(peak['threads'], 'thread')}, {seconds:g} s each")
    table = Table("peak", title, [Column("thread", "thread"),
                                  Column("gflops", "GFLOP/s", "{:.1f}", plot=True)],
                  meta={"dtype": dtype, "seconds": seconds, **peak})
    for i, gflops in enumerate(peak["per_thread"]):
        table.add({"thread": str(i), "gflops": gflops})
    table.add({"thread": "total", "gflops": peak["gflops"]})
    return table


def run_peak_bench(dtype: str = "float32", seconds: float = 0.5, threads: int | None = None,
                   json_path: str | None = None) -> int:
    """``axonic bench peak``: measures, prints the table, writes JSON on request."""
    report(peak_table(dtype, seconds, threads), json_path)
    return 0
