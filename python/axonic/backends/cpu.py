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
accumulate = _cpu.accumulate
batch_norm_forward_train = _cpu.batch_norm_forward_train
batch_norm_forward_eval = _cpu.batch_norm_forward_eval
batch_norm_backward = _cpu.batch_norm_backward
dropout_forward = _cpu.dropout_forward
dropout_backward = _cpu.dropout_backward
max_pool2d_forward = _cpu.max_pool2d_forward
max_pool2d_backward = _cpu.max_pool2d_backward
avg_pool2d_forward = _cpu.avg_pool2d_forward
avg_pool2d_backward = _cpu.avg_pool2d_backward
conv2d_forward = _cpu.conv2d_forward
conv2d_backward_input = _cpu.conv2d_backward_input
conv2d_backward_weight = _cpu.conv2d_backward_weight
conv2d_backward_bias = _cpu.conv2d_backward_bias
conv2d_backward = _cpu.conv2d_backward
