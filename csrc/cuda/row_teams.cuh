// Row-wise kernels: a "team" of threads owns one row of a rows x cols row-major
// matrix at a time, walks it with stride team.size and reduces over it (max, sum).
// Short rows take a team of `width` lanes of one warp (4, 8, 16 or 32: the smallest
// that covers the row, up to 32), so a warp serves 32 / width rows at once and the
// reductions are register shuffles; rows longer than kWarpRowLimit take a whole block
// (reductions through shared memory). launch_rows picks the team, and the grid loops
// over rows, so any number of rows fits one launch.
//
// An op is a functor `op(team, row)`; its element loops run j = team.rank, + team.size,
// ... < team.columns(cols). All lanes of a warp call the reductions together (the
// shuffles use the full mask): a warp whose last teams find no row still runs the op
// for them with team.active false and team.columns(cols) == 0, and the op touches no
// memory for them.
#pragma once

#include <cstdint>

#include "cuda/elementwise.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

inline constexpr int64_t kWarpRowLimit = 1024;  // longest row a warp team takes (32 / lane)
inline constexpr int kRowThreads = 256;         // block size of the warp-team kernels
inline constexpr int64_t kMaxRowBlocks = 8192;
inline constexpr unsigned kFullWarp = 0xffffffffu;

template <int width>
struct WarpTeam {
  static constexpr int size = width;
  int rank;     // lane within the team
  bool active;  // whether the team has a row

  __device__ int64_t columns(int64_t cols) const { return active ? cols : 0; }

  // Butterfly reductions inside each aligned group of `width` lanes: every lane gets
  // its team's result.
  template <typename V>
  __device__ V sum(V v) const {
#pragma unroll
    for (int offset = width / 2; offset > 0; offset /= 2)
      v += __shfl_xor_sync(kFullWarp, v, offset);
    return v;
  }
  template <typename V>
  __device__ V max(V v) const {
#pragma unroll
    for (int offset = width / 2; offset > 0; offset /= 2) {
      const V other = __shfl_xor_sync(kFullWarp, v, offset);
      v = other > v ? other : v;
    }
    return v;
  }
};

// A whole block on one row. scratch: 33 doubles of shared memory (a partial per warp
// and the result), reused by every reduction.
struct BlockTeam {
  int rank;
  int size;
  double* scratch;
  bool active;

  __device__ int64_t columns(int64_t cols) const { return active ? cols : 0; }

  template <typename V>
  __device__ V sum(V v) const {
    return static_cast<V>(
        reduce(static_cast<double>(v), 0.0, [](double a, double b) { return a + b; }));
  }
  template <typename V>
  __device__ V max(V v) const {
    return static_cast<V>(reduce(static_cast<double>(v), -INFINITY,
                                 [](double a, double b) { return b > a ? b : a; }));
  }

 private:
  // Warp butterflies, one partial per warp in scratch, warp 0 combines them (lanes
  // past the last warp contribute op's identity). The barriers order each
  // reduction's writes after the previous one's reads.
  template <typename Op>
  __device__ double reduce(double v, double identity, const Op& op) const {
    const int lane = rank % 32, warp = rank / 32, warps = size / 32;
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2)
      v = op(v, __shfl_xor_sync(kFullWarp, v, offset));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
      v = lane < warps ? scratch[lane] : identity;
#pragma unroll
      for (int offset = 16; offset > 0; offset /= 2)
        v = op(v, __shfl_xor_sync(kFullWarp, v, offset));
      if (lane == 0) scratch[32] = v;
    }
    __syncthreads();
    return scratch[32];
  }
};

template <int width, typename Op>
__global__ void rows_by_warp_teams(Op op, int64_t rows) {
  constexpr int teams_per_warp = 32 / width;
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t warp = global_thread() / 32, warps = grid_threads() / 32;
  for (int64_t first = warp * teams_per_warp; first < rows; first += warps * teams_per_warp) {
    const int64_t row = first + lane / width;
    const WarpTeam<width> team{lane % width, row < rows};
    op(team, team.active ? row : 0);
  }
}

template <typename Op>
__global__ void rows_by_blocks(Op op, int64_t rows) {
  __shared__ double scratch[33];
  const BlockTeam team{static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), scratch,
                       true};
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) op(team, row);
}

template <int width, typename Op>
void launch_warp_teams(const Op& op, int64_t rows, cudaStream_t stream) {
  const int64_t warps = (rows + 32 / width - 1) / (32 / width);
  const unsigned blocks = blocks_for(warps * 32, kRowThreads);
  AXONIC_LAUNCH((rows_by_warp_teams<width, Op>),
                blocks < kMaxRowBlocks ? blocks : static_cast<unsigned>(kMaxRowBlocks),
                kRowThreads, 0, stream, op, rows);
}

// Runs op over every row of a rows x cols problem on `stream` (cols >= 1).
template <typename Op>
void launch_rows(const Op& op, int64_t rows, int64_t cols, cudaStream_t stream) {
  if (rows == 0) return;
  if (cols <= 4) return launch_warp_teams<4>(op, rows, stream);
  if (cols <= 8) return launch_warp_teams<8>(op, rows, stream);
  if (cols <= 16) return launch_warp_teams<16>(op, rows, stream);
  if (cols <= kWarpRowLimit) return launch_warp_teams<32>(op, rows, stream);
  const int threads = cols <= 4096 ? 256 : cols <= 16384 ? 512 : 1024;
  const unsigned blocks = static_cast<unsigned>(rows < kMaxRowBlocks ? rows : kMaxRowBlocks);
  AXONIC_LAUNCH((rows_by_blocks<Op>), blocks, threads, 0, stream, op, rows);
}

}  // namespace axonic::cuda
