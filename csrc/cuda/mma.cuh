// Warp-level TF32 tensor-core multiply (mma.sync.aligned.m16n8k8, sm_80+) and the
// float32 -> TF32 rounding of its inputs, with portable equivalents: where the
// instructions are missing (the CPU emulator, pre-Ampere GPUs) the same warp-level
// result is computed with __shfl_sync from the same register fragments, so the
// emulator checks the kernels' fragment indexing, not just their arithmetic.
//
// Fragments of D (16x8) += A (16x8, row-major) B (8x8, column-major), PTX ISA
// "Matrix fragments for mma.m16n8k8" (.tf32), for lane = 4 * group + member:
//   a[0] = A[group][member]       a[1] = A[group + 8][member]
//   a[2] = A[group][member + 4]   a[3] = A[group + 8][member + 4]
//   b[0] = B[member][group]       b[1] = B[member + 4][group]
//   d[0], d[1] = D[group][2 member + (0, 1)]   d[2], d[3] = D[group + 8][2 member + (0, 1)]
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda/runtime.cuh"

namespace axonic::cuda {

__device__ __forceinline__ uint32_t float_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

__device__ __forceinline__ float bits_float(uint32_t bits) {
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

// x rounded to TF32 (8-bit exponent, 10-bit mantissa: the low 13 bits zero) to
// nearest, ties away from zero, as cvt.rna.tf32.f32: the tensor cores' input format.
__device__ __forceinline__ uint32_t to_tf32(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
#else
  const uint32_t bits = float_bits(x);
  if ((bits & 0x7f800000u) == 0x7f800000u)  // Inf stays, NaN becomes the canonical NaN
    return (bits & 0x007fffffu) != 0 ? 0x7fffffffu : bits;
  // Half a TF32 unit added to the magnitude, then truncated: ties round away from
  // zero, and the largest floats round up to Inf, as the instruction does.
  return (bits + 0x1000u) & 0xffffe000u;
#endif
}

// d += A B for the warp's 16x8x8 TF32 fragments (layout above; a, b from to_tf32).
// All 32 lanes of the warp must call it together.
__device__ __forceinline__ void mma_tf32_m16n8k8(float (&d)[4], const uint32_t (&a)[4],
                                                 const uint32_t (&b)[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  constexpr unsigned all_lanes = 0xffffffffu;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int group = lane / 4, member = lane % 4;
#pragma unroll
  for (int k = 0; k < 8; ++k) {
    // A[row][k] lives in lane 4 row + k % 4 (register 0/1 for k < 4, else 2/3);
    // B[k][col] in lane 4 col + k % 4 (register 0 for k < 4, else 1). The register
    // each shuffle sends is the same in every lane, as __shfl_sync requires.
    const bool high = k >= 4;
    const int a_lane = 4 * group + k % 4;
    const float a_top = bits_float(__shfl_sync(all_lanes, a[high ? 2 : 0], a_lane));
    const float a_bottom = bits_float(__shfl_sync(all_lanes, a[high ? 3 : 1], a_lane));
    const float b_left = bits_float(__shfl_sync(all_lanes, b[high ? 1 : 0], 8 * member + k % 4));
    const float b_right =
        bits_float(__shfl_sync(all_lanes, b[high ? 1 : 0], 8 * member + 4 + k % 4));
    d[0] += a_top * b_left;
    d[1] += a_top * b_right;
    d[2] += a_bottom * b_left;
    d[3] += a_bottom * b_right;
  }
#endif
}

}  // namespace axonic::cuda
