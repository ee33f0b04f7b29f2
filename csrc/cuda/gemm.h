// Host launchers of the CUDA GEMM (gemm.cu): C = alpha * op(A) op(B) + beta * C on
// row-major matrices in device memory, with the shape contract of the CPU kernel
// (common/gemm_shape.h), for a stack of products at once.
#pragma once

#include <cstdint>

#include "common/gemm_shape.h"
#include "cuda/stream.h"

namespace axonic::cuda {

// `count` products; product i reads A, B and writes C `stride_*` elements after
// product 0's (a stride of 0 reads one matrix for every product: a broadcast operand).
struct GemmBatch {
  int64_t count;
  int64_t stride_a, stride_b, stride_c;
};

// The kernels gemm can run; `automatic` picks one from the dtype, allow_tf32 and the
// number of output tiles against the device's multiprocessors.
enum class GemmKernel {
  automatic,
  simt_128x128,  // float32 only: 128x128x8 block tiles, 8x8 outputs per thread
  simt_64x64,    // 64x64x16 block tiles, 4x4 per thread: small outputs, and float64
  tf32_128x128,  // float32 only: TF32 tensor cores (mma.sync m16n8k8), 64x64 per warp
};

// The kernel's name as gemm_kernels() lists it ("simt_128x128", ...).
const char* gemm_kernel_name(GemmKernel kernel);

// Runs the stack of GEMMs on `stream`. beta == 0 never reads C; k == 0 gives
// C = beta * C. allow_tf32 lets float32 run on the tensor cores (inputs rounded to
// TF32, 10 mantissa bits); float64 ignores it. Throws std::invalid_argument for a
// bad shape, or a `kernel` that does not take T, and std::runtime_error for a CUDA error.
template <typename T>
void gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c,
          const GemmBatch& batch, bool allow_tf32, cudaStream_t stream,
          GemmKernel kernel = GemmKernel::automatic);

}  // namespace axonic::cuda
