"""Settings of the CUDA backend, importable without CuPy or a GPU (as PyTorch's
``torch.backends.cuda``): ``axonic.backends.cuda.matmul.allow_tf32 = True`` lets float32
matrix products (Linear, matmul) run on the tensor cores in TF32, about 10 bits of
mantissa, several times faster on Ampere and Hopper GPUs. Off by default: results then
match the CPU to float32 rounding. The kernels themselves are in ``cuda_kernels``."""

from __future__ import annotations


class MatmulSettings:
    """``allow_tf32``: float32 GEMMs on CUDA may round their inputs to TF32."""

    def __init__(self) -> None:
        self.allow_tf32 = False

    def __setattr__(self, name: str, value) -> None:
        if name != "allow_tf32":
            raise AttributeError(f"unknown matmul setting {name!r}; the setting is allow_tf32")
        if not isinstance(value, bool):
            raise TypeError(f"allow_tf32 must be True or False, got {value!r}")
        object.__setattr__(self, name, value)


matmul = MatmulSettings()
