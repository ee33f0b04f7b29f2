// Inverted dropout; contract in dropout.h.
//
// Random numbers: the counter-based SplitMix64 hash of common/dropout_hash.h, shared
// with the CUDA kernel: element i of a call with (seed, offset) is kept iff the uniform
// of counter offset + i is >= p. The comparison and the scaling by 1 / (1 - p) are done
// in double, then rounded once to T, exactly as the NumPy reference does, so every
// backend agrees bit for bit. Dropped elements are written as 0 (not x * 0), so a
// dropped NaN or inf becomes 0, as dropping means.
//
// Every element is independent: from kParallelElements on, the elements are split
// over OpenMP threads with a static schedule; since each mask bit depends only on its
// index, the result does not depend on the thread count.
#include "cpu/dropout.h"

#include "common/dropout_hash.h"
#include "cpu/parallel_items.h"

namespace axonic::cpu {

namespace {

template <typename Body>
void for_each_element(int64_t n, const Body& body) {
  if (n >= kParallelElements) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
  } else {
    for (int64_t i = 0; i < n; ++i) body(i);
  }
}

}  // namespace

template <typename T>
void dropout_forward(const T* x, T* out, uint8_t* mask, int64_t n, double p, uint64_t seed,
                     uint64_t offset) {
  const double scale = dropout_keep_scale(p);
  for_each_element(n, [=](int64_t i) {
    const bool keep = dropout_keeps(seed, offset + static_cast<uint64_t>(i), p);
    mask[i] = keep ? 1 : 0;
    out[i] = dropout_value(keep, x[i], scale);
  });
}

template <typename T>
void dropout_backward(const T* grad_out, const uint8_t* mask, T* grad_in, int64_t n, double p) {
  const double scale = dropout_keep_scale(p);
  for_each_element(n, [=](int64_t i) {
    grad_in[i] = dropout_value(mask[i] != 0, grad_out[i], scale);
  });
}

template void dropout_forward<float>(const float*, float*, uint8_t*, int64_t, double, uint64_t,
                                     uint64_t);
template void dropout_forward<double>(const double*, double*, uint8_t*, int64_t, double,
                                      uint64_t, uint64_t);
template void dropout_backward<float>(const float*, const uint8_t*, float*, int64_t, double);
template void dropout_backward<double>(const double*, const uint8_t*, double*, int64_t, double);

}  // namespace axonic::cpu
