// Growable per-thread scratch buffers, kept between calls so that small kernels do
// not pay for allocation and large ones not for page faults. Each purpose has its
// own slot, so a caller's buffer survives the kernels it calls (conv2d keeps its
// columns while the GEMM packs its panels). Compiled once, with the base flags, so
// the per-ISA files share one set of buffers.
#pragma once

#include <cstddef>

namespace axonic::cpu {

enum class ScratchSlot { gemm_packed_b, gemm_packed_a, conv_columns, conv_partial, count };

// At least `bytes` bytes owned by the calling thread, 64-byte aligned; contents are
// unspecified. Buffers of 2 MiB and more are 2 MiB-aligned and asked to use huge
// pages (a TLB miss per 4 KiB page costs a GEMM micro-kernel measurably). Valid until
// the same thread asks the same slot for more. Throws std::bad_alloc.
void* thread_scratch(ScratchSlot slot, size_t bytes);

template <typename T>
T* thread_scratch(ScratchSlot slot, long long count) {
  return static_cast<T*>(thread_scratch(slot, static_cast<size_t>(count) * sizeof(T)));
}

}  // namespace axonic::cpu
