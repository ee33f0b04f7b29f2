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
sgd_update = _cpu.sgd_update
adagrad_update = _cpu.adagrad_update
rmsprop_update = _cpu.rmsprop_update
adadelta_update = _cpu.adadelta_update
adam_update = _cpu.adam_update
adamax_update = _cpu.adamax_update
nadam_update = _cpu.nadam_update
parallel_copy = _cpu.parallel_copy
