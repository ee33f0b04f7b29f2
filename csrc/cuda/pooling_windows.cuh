// Window arithmetic of the pooling kernels (pooling.cu, pooling_max_backward.cu): the
// kernel parameters in 32-bit ints, and the grid-stride walk over (plane, position)
// elements of a call.
#pragma once

#include <cstdint>

#include "common/window_geometry.h"
#include "cuda/runtime.cuh"

namespace axonic::cuda::pool_detail {

constexpr int kPoolThreads = 256;
constexpr int64_t kMaxPoolBlocks = 8192;

// Pool2dGeometry in ints (pool2d_fits_int32), with the plane sizes.
struct PoolParams {
  int64_t planes;
  int in_h, in_w, out_h, out_w, in_plane, out_plane;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

inline PoolParams pool_params(const Pool2dGeometry& g) {
  return {g.planes,
          static_cast<int>(g.in_h),
          static_cast<int>(g.in_w),
          static_cast<int>(g.out_h),
          static_cast<int>(g.out_w),
          static_cast<int>(g.in_h * g.in_w),
          static_cast<int>(g.out_h * g.out_w),
          static_cast<int>(g.kernel_h),
          static_cast<int>(g.kernel_w),
          static_cast<int>(g.stride_h),
          static_cast<int>(g.stride_w),
          static_cast<int>(g.pad_h),
          static_cast<int>(g.pad_w),
          static_cast<int>(g.dilation_h),
          static_cast<int>(g.dilation_w)};
}

// Blocks of kPoolThreads for `items` grid-stride items.
inline unsigned pool_blocks(int64_t items) {
  const int64_t blocks = (items + kPoolThreads - 1) / kPoolThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks > kMaxPoolBlocks ? kMaxPoolBlocks : blocks);
}

// body(plane, position) for every position in [0, plane_size) of every plane, spread
// over the grid's threads.
template <class Body>
__device__ __forceinline__ void for_each_plane_position(int64_t planes, int plane_size,
                                                        const Body& body) {
  const int64_t total = planes * plane_size;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t plane = i / plane_size;
    body(plane, static_cast<int>(i - plane * plane_size));
  }
}

}  // namespace axonic::cuda::pool_detail
