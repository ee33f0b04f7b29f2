"""The CPU emulator for axonic's CUDA kernels (see README.md): the build of the emulated
module (build.py) and the ``cuda_kernels`` fixture's machinery (fixture.py)."""
