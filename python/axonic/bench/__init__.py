"""``axonic bench``: kernel throughput against the peers, printed as one table format.

core.py holds what every subcommand shares (timing, thread control, Table, JSON,
plot); each subcommand is a module: gemm.py (``bench gemm``), peak.py (``bench peak``),
optim.py (``bench optim``), conv.py (``bench conv``), train_step.py
(``bench train-step``).
"""

from .conv import DEFAULT_CONV_SHAPES, ConvShape, conv_table, run_conv_bench
from .core import (
                   BenchError,
                   Column,
                   Table,
                   format_table,
                   median_seconds,
                   report,
                   settle,
                   thread_count,
)
from .gemm import DEFAULT_GEMM_SHAPES, GemmShape, gemm_table, run_gemm_bench
from .optim import OPTIMIZER_CASES, optim_table, run_optim_bench
from .peak import peak_table, run_peak_bench
from .train_step import run_train_step_bench, train_step_table

__all__ = ["BenchError", "Column", "Table", "format_table", "median_seconds", "report", "settle",
           "thread_count", "DEFAULT_GEMM_SHAPES", "GemmShape", "gemm_table", "run_gemm_bench",
           "peak_table", "run_peak_bench", "OPTIMIZER_CASES", "optim_table", "run_optim_bench",
           "DEFAULT_CONV_SHAPES", "ConvShape", "conv_table", "run_conv_bench",
           "run_train_step_bench", "train_step_table"]
