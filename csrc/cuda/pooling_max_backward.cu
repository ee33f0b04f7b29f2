// 2-D max pooling backward on the GPU; contract in pooling.h.
//
// grad_in = 0, then grad_in[argmax] += grad_out within each plane. A scatter with
// atomics would add overlapping windows' gradients in a different order on every run,
// so this is a gather: one thread per grad_in element sums, in output order (the CPU
// kernel's order: the same bits), the grad_out entries whose argmax names it. argmax
// carries no window geometry (the binding gets none), so the outputs to scan are
// found from argmax itself, in three small passes before the gather:
//
//   1. argmax_extent_kernel, over output rows and then columns: for each output row oh,
//      the lowest and highest input row any plane's argmax in that row names (and for
//      each output column, the input columns). It also finds the first argmax entry
//      outside [-1, in_h * in_w) (atomicMin of its flat position).
//   2. The host reads that position back (a stream synchronization) and throws the CPU's
//      ValueError when there is one, before anything is written.
//   3. candidate_outputs_kernel: for each input row h, the range of output rows whose
//      extent contains h (columns alike). For argmax from max_pool2d_forward that is the
//      ~kernel / stride outputs whose windows hold h; for any argmax it contains every
//      output that names h, so the gather is exact whatever argmax holds.
//   4. max_pool_backward_kernel: grad_in (plane, h, w) = the sum of grad_out over the
//      outputs in (row range of h) x (column range of w) whose argmax is h * in_w + w.
// The min / max atomics of pass 1 are integer and order-free: deterministic.
#include <algorithm>
#include <climits>
#include <utility>

#include "common/window_geometry.h"
#include "cuda/pooling.h"
#include "cuda/pooling_windows.cuh"
#include "cuda/runtime.cuh"
#include "cuda/stream_scratch.cuh"

namespace axonic::cuda {

using namespace pool_detail;

namespace {

constexpr long long kNoBadEntry = LLONG_MAX;
constexpr int64_t kMaxGridY = 65535;

// The scratch of one call: per output row / column the extent of the input rows /
// columns its argmax entries name ([lo, hi], lo > hi when none), per input row / column
// the range [begin, end) of candidate outputs, and the first bad flat position.
struct ExtentTables {
  int* row_lo;  // out_h each, then row_hi, col_lo, col_hi (out_w each)
  int* row_hi;
  int* col_lo;
  int* col_hi;
  int* row_begin;  // in_h each, then row_end, col_begin, col_end (in_w each)
  int* row_end;
  int* col_begin;
  int* col_end;
  long long* first_bad;
};

__global__ void init_extents_kernel(ExtentTables t, int out_h, int out_w) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < out_h) {
    t.row_lo[i] = INT_MAX;
    t.row_hi[i] = INT_MIN;
  }
  if (i < out_w) {
    t.col_lo[i] = INT_MAX;
    t.col_hi[i] = INT_MIN;
  }
  if (i == 0) *t.first_bad = kNoBadEntry;
}

// Block (chunk, line): the extent of the entries of output row `line` (ROWS) or column
// `line` over the planes of chunk `chunk` (planes_per_chunk each), for lines blockIdx.y,
// blockIdx.y + gridDim.y, ... ROWS also records the first bad entry.
template <bool ROWS>
__global__ void __launch_bounds__(kPoolThreads)
    argmax_extent_kernel(const int64_t* __restrict__ argmax, ExtentTables t, PoolParams p,
                         int64_t planes_per_chunk) {
  __shared__ int block_lo, block_hi;
  const int tid = static_cast<int>(threadIdx.x);
  const int lines = ROWS ? p.out_h : p.out_w;
  const int across = ROWS ? p.out_w : p.out_h;  // entries of a line per plane
  const int64_t first_plane = static_cast<int64_t>(blockIdx.x) * planes_per_chunk;
  const int64_t last_plane =
      first_plane + planes_per_chunk < p.planes ? first_plane + planes_per_chunk : p.planes;
  const int64_t count = (last_plane - first_plane) * across;
  for (int line = static_cast<int>(blockIdx.y); line < lines;
       line += static_cast<int>(gridDim.y)) {
    if (tid == 0) {
      block_lo = INT_MAX;
      block_hi = INT_MIN;
    }
    __syncthreads();
    int lo = INT_MAX, hi = INT_MIN;
    for (int64_t e = tid; e < count; e += kPoolThreads) {
      const int64_t plane = first_plane + e / across;
      const int other = static_cast<int>(e % across);
      const int64_t position =
          plane * p.out_plane + (ROWS ? line * p.out_w + other : other * p.out_w + line);
      const int64_t a = argmax[position];
      if (a < -1 || a >= p.in_plane) {
        if (ROWS) atomicMin(t.first_bad, static_cast<long long>(position));
        continue;
      }
      if (a < 0) continue;
      const int coordinate = ROWS ? static_cast<int>(a / p.in_w) : static_cast<int>(a % p.in_w);
      lo = coordinate < lo ? coordinate : lo;
      hi = coordinate > hi ? coordinate : hi;
    }
    if (lo <= hi) {
      atomicMin(&block_lo, lo);
      atomicMax(&block_hi, hi);
    }
    __syncthreads();
    if (tid == 0 && block_lo <= block_hi) {
      atomicMin((ROWS ? t.row_lo : t.col_lo) + line, block_lo);
      atomicMax((ROWS ? t.row_hi : t.col_hi) + line, block_hi);
    }
    __syncthreads();  // block_lo / block_hi are reset for the next line
  }
}

// Thread i < in_h: the output rows whose extent holds input row i; then the columns.
__global__ void candidate_outputs_kernel(ExtentTables t, int in_h, int in_w, int out_h,
                                         int out_w) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= in_h + in_w) return;
  const bool rows = i < in_h;
  const int index = rows ? i : i - in_h, lines = rows ? out_h : out_w;
  const int* lo = rows ? t.row_lo : t.col_lo;
  const int* hi = rows ? t.row_hi : t.col_hi;
  int begin = lines, end = 0;
  for (int line = 0; line < lines; ++line) {
    if (lo[line] <= index && index <= hi[line]) {
      begin = line < begin ? line : begin;
      end = line + 1;
    }
  }
  (rows ? t.row_begin : t.col_begin)[index] = begin;
  (rows ? t.row_end : t.col_end)[index] = end;
}

template <typename T>
__global__ void __launch_bounds__(kPoolThreads)
    max_pool_backward_kernel(const T* __restrict__ grad_out, const int64_t* __restrict__ argmax,
                             T* __restrict__ grad_in, ExtentTables t, PoolParams p) {
  for_each_plane_position(p.planes, p.in_plane, [&](int64_t plane, int position) {
    const int h = position / p.in_w, w = position % p.in_w;
    const int oh_end = t.row_end[h], ow_begin = t.col_begin[w], ow_end = t.col_end[w];
    const T* gp = grad_out + plane * p.out_plane;
    const int64_t* ap = argmax + plane * p.out_plane;
    T sum = T(0);
    for (int oh = t.row_begin[h]; oh < oh_end; ++oh) {
      for (int ow = ow_begin; ow < ow_end; ++ow) {
        const int o = oh * p.out_w + ow;
        if (ap[o] == position) sum += gp[o];
      }
    }
    grad_in[plane * p.in_plane + position] = sum;
  });
}

}  // namespace

template <typename T>
void max_pool2d_backward(const T* grad_out, const int64_t* argmax, T* grad_in,
                         const Pool2dGeometry& g, cudaStream_t stream) {
  const int64_t inputs = g.planes * g.in_h * g.in_w;
  const int64_t outputs = g.planes * g.out_h * g.out_w;
  if (inputs == 0 && outputs == 0) return;
  const PoolParams p = pool_params(g);
  const int64_t ints = 2 * (g.out_h + g.out_w) + 2 * (g.in_h + g.in_w);
  StreamScratch scratch(sizeof(long long) + ints * sizeof(int), stream);
  ExtentTables t{};
  t.first_bad = scratch.get<long long>();
  int* next = reinterpret_cast<int*>(t.first_bad + 1);
  for (int** table : {&t.row_lo, &t.row_hi}) *table = next, next += g.out_h;
  for (int** table : {&t.col_lo, &t.col_hi}) *table = next, next += g.out_w;
  for (int** table : {&t.row_begin, &t.row_end}) *table = next, next += g.in_h;
  for (int** table : {&t.col_begin, &t.col_end}) *table = next, next += g.in_w;

  const int64_t lines = std::max(g.out_h, g.out_w);
  AXONIC_LAUNCH(init_extents_kernel, dim3(blocks_for(lines, kPoolThreads)), dim3(kPoolThreads),
                0, stream, t, p.out_h, p.out_w);
  if (outputs > 0) {
    // About kPoolThreads x 8 entries per block.
    const auto chunked = [&](int across) {
      const int64_t planes_per_chunk = std::max<int64_t>(1, kPoolThreads * 8 / across);
      return std::pair<int64_t, unsigned>(
          planes_per_chunk, static_cast<unsigned>((g.planes + planes_per_chunk - 1) /
                                                  planes_per_chunk));
    };
    const auto lines_y = [](int64_t lines) {
      return static_cast<unsigned>(std::min<int64_t>(lines, kMaxGridY));
    };
    const auto [row_chunk, row_chunks] = chunked(p.out_w);
    AXONIC_LAUNCH(argmax_extent_kernel<true>, dim3(row_chunks, lines_y(g.out_h)),
                  dim3(kPoolThreads), 0, stream, argmax, t, p, row_chunk);
    const auto [col_chunk, col_chunks] = chunked(p.out_h);
    AXONIC_LAUNCH(argmax_extent_kernel<false>, dim3(col_chunks, lines_y(g.out_w)),
                  dim3(kPoolThreads), 0, stream, argmax, t, p, col_chunk);
  }
  long long first_bad = kNoBadEntry;
  AXONIC_CUDA_CHECK(cudaMemcpyAsync(&first_bad, t.first_bad, sizeof(first_bad),
                                    cudaMemcpyDeviceToHost, stream));
  AXONIC_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (first_bad != kNoBadEntry) {
    int64_t value = 0;
    AXONIC_CUDA_CHECK(cudaMemcpyAsync(&value, argmax + first_bad, sizeof(value),
                                      cudaMemcpyDeviceToHost, stream));
    AXONIC_CUDA_CHECK(cudaStreamSynchronize(stream));
    throw_pool2d_argmax_out_of_range(value, first_bad, g);
  }
  if (inputs == 0) return;
  AXONIC_LAUNCH(candidate_outputs_kernel, dim3(blocks_for(g.in_h + g.in_w, kPoolThreads)),
                dim3(kPoolThreads), 0, stream, t, p.in_h, p.in_w, p.out_h, p.out_w);
  AXONIC_LAUNCH((max_pool_backward_kernel<T>), dim3(pool_blocks(inputs)), dim3(kPoolThreads), 0,
                stream, grad_out, argmax, grad_in, t, p);
}

template void max_pool2d_backward<float>(const float*, const int64_t*, float*,
                                         const Pool2dGeometry&, cudaStream_t);
template void max_pool2d_backward<double>(const double*, const int64_t*, double*,
                                          const Pool2dGeometry&, cudaStream_t);

}  // namespace axonic::cuda
