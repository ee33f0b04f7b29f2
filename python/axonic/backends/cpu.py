"""The CPU backend: axonic._cpu's C++/OpenMP kernels, with NumPy for glue."""

import numpy as np

from axonic import _cpu

name = "cpu"
device = "cpu"
xp = np

gemm = _cpu.gemm
activation_forward = _cpu.activation_forward
activation_backward = _cpu.activation_backward
softmax_forward = _cpu.softmax_forward
softmax_backward = _cpu.softmax_backward
softmax_cross_entropy_forward = _cpu.softmax_cross_entropy_forward
softmax_cross_entropy_backward = _cpu.softmax_cross_entropy_backward
