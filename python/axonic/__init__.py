from axonic import _cpu
