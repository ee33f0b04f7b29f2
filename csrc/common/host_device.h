// AXONIC_HOST_DEVICE marks the small inline functions of csrc/common that the CPU
// kernels and the CUDA kernels share (one definition of a formula on both sides):
// __host__ __device__ under nvcc, nothing for g++ (the CPU module, and the CUDA
// emulator, which compiles device code as host code).
#pragma once

#if defined(__CUDACC__)
#define AXONIC_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define AXONIC_HOST_DEVICE inline
#endif
