// The math functions of the elementwise and row kernels, one name for float and
// double: math::exp(x) is expf for float and exp for double. CUDA's accurate versions
// (a few ulp; not the __expf-style intrinsics, whose error grows with |x|), so float32
// results stay well within the tests' rtol of 1e-4 against the float64 reference.
#pragma once

#include "cuda/runtime.cuh"

namespace axonic::cuda::math {

__device__ __forceinline__ float exp(float x) { return ::expf(x); }
__device__ __forceinline__ double exp(double x) { return ::exp(x); }
__device__ __forceinline__ float expm1(float x) { return ::expm1f(x); }
__device__ __forceinline__ double expm1(double x) { return ::expm1(x); }
__device__ __forceinline__ float log(float x) { return ::logf(x); }
__device__ __forceinline__ double log(double x) { return ::log(x); }
__device__ __forceinline__ float tanh(float x) { return ::tanhf(x); }
__device__ __forceinline__ double tanh(double x) { return ::tanh(x); }
__device__ __forceinline__ float erfc(float x) { return ::erfcf(x); }
__device__ __forceinline__ double erfc(double x) { return ::erfc(x); }
__device__ __forceinline__ float abs(float x) { return ::fabsf(x); }
__device__ __forceinline__ double abs(double x) { return ::fabs(x); }

}  // namespace axonic::cuda::math
