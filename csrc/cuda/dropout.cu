// Inverted dropout on the GPU; contract in dropout.h.
//
// Layout: flat C-contiguous buffers of n elements and a uint8 mask of n bytes. Every
// element is independent: its keep bit is the counter-based SplitMix64 hash of
// (seed, offset + i) in common/dropout_hash.h, the very function the CPU kernel calls,
// compared with p and scaled by 1 / (1 - p) in double (IEEE double arithmetic on the
// GPU as on the CPU, no fused operation in it), so every backend writes the same bits.
// Grid-stride loops (elementwise.cuh); when x/out (grad_out/grad_in) are 16-byte
// aligned and the mask is aligned to a group, each thread handles a group of 4 floats
// or 2 doubles with one vector load and store per array, else one element at a time.
#include "cuda/dropout.h"

#include "common/dropout_hash.h"
#include "cuda/elementwise.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

namespace {

template <typename T, int lanes>
__global__ void dropout_forward_kernel(const T* __restrict__ x, T* __restrict__ out,
                                       uint8_t* __restrict__ mask, int64_t n, double p,
                                       uint64_t seed, uint64_t offset, double scale) {
  for_each_group<lanes>(
      n,
      [&](int64_t i) {
        Lanes<T, lanes> v = load_lanes<T, lanes>(x + i);
        Lanes<uint8_t, lanes> m;
#pragma unroll
        for (int l = 0; l < lanes; ++l) {
          const bool keep = dropout_keeps(seed, offset + static_cast<uint64_t>(i + l), p);
          m.v[l] = keep ? 1 : 0;
          v.v[l] = dropout_value(keep, v.v[l], scale);
        }
        store_lanes(out + i, v);
        store_lanes(mask + i, m);
      },
      [&](int64_t i) {
        const bool keep = dropout_keeps(seed, offset + static_cast<uint64_t>(i), p);
        mask[i] = keep ? 1 : 0;
        out[i] = dropout_value(keep, x[i], scale);
      });
}

template <typename T, int lanes>
__global__ void dropout_backward_kernel(const T* __restrict__ grad_out,
                                        const uint8_t* __restrict__ mask,
                                        T* __restrict__ grad_in, int64_t n, double scale) {
  for_each_group<lanes>(
      n,
      [&](int64_t i) {
        Lanes<T, lanes> g = load_lanes<T, lanes>(grad_out + i);
        const Lanes<uint8_t, lanes> m = load_lanes<uint8_t, lanes>(mask + i);
#pragma unroll
        for (int l = 0; l < lanes; ++l) g.v[l] = dropout_value(m.v[l] != 0, g.v[l], scale);
        store_lanes(grad_in + i, g);
      },
      [&](int64_t i) { grad_in[i] = dropout_value(mask[i] != 0, grad_out[i], scale); });
}

// Whether the mask can be read or written in groups of `lanes` bytes.
bool mask_aligned(const uint8_t* mask, int lanes) {
  return reinterpret_cast<uintptr_t>(mask) % static_cast<uintptr_t>(lanes) == 0;
}

}  // namespace

template <typename T>
void dropout_forward(const T* x, T* out, uint8_t* mask, int64_t n, double p, uint64_t seed,
                     uint64_t offset, cudaStream_t stream) {
  if (n == 0) return;
  const double scale = dropout_keep_scale(p);
  constexpr int lanes = kVectorLanes<T>;
  if (vector_aligned(x) && vector_aligned(out) && mask_aligned(mask, lanes))
    AXONIC_LAUNCH((dropout_forward_kernel<T, lanes>), elementwise_blocks(n, lanes),
                  kElementwiseThreads, 0, stream, x, out, mask, n, p, seed, offset, scale);
  else
    AXONIC_LAUNCH((dropout_forward_kernel<T, 1>), elementwise_blocks(n, 1), kElementwiseThreads,
                  0, stream, x, out, mask, n, p, seed, offset, scale);
}

template <typename T>
void dropout_backward(const T* grad_out, const uint8_t* mask, T* grad_in, int64_t n, double p,
                      cudaStream_t stream) {
  if (n == 0) return;
  const double scale = dropout_keep_scale(p);
  constexpr int lanes = kVectorLanes<T>;
  if (vector_aligned(grad_out) && vector_aligned(grad_in) && mask_aligned(mask, lanes))
    AXONIC_LAUNCH((dropout_backward_kernel<T, lanes>), elementwise_blocks(n, lanes),
                  kElementwiseThreads, 0, stream, grad_out, mask, grad_in, n, scale);
  else
    AXONIC_LAUNCH((dropout_backward_kernel<T, 1>), elementwise_blocks(n, 1), kElementwiseThreads,
                  0, stream, grad_out, mask, grad_in, n, scale);
}

template void dropout_forward<float>(const float*, float*, uint8_t*, int64_t, double, uint64_t,
                                     uint64_t, cudaStream_t);
template void dropout_forward<double>(const double*, double*, uint8_t*, int64_t, double,
                                      uint64_t, uint64_t, cudaStream_t);
template void dropout_backward<float>(const float*, const uint8_t*, float*, int64_t, double,
                                      cudaStream_t);
template void dropout_backward<double>(const double*, const uint8_t*, double*, int64_t, double,
                                       cudaStream_t);

}  // namespace axonic::cuda
