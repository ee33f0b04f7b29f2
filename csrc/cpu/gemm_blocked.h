// The blocked GEMM drivers: A and B packed into panels (B read in place when few rows
// use it), the micro-kernel on every MR x NR tile of C. Two ways to split C between
// threads:
//
// Shared (gemm_shared_blocks), in the BLIS loop order:
//   for jc over N in NC-wide blocks:
//     for pc over K in KC-deep blocks:
//       pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels (kc x NR)   [all threads]
//       parallel over tasks of MC rows (x a group of B panels when M is short):
//         pack op(A)[rows, pc:pc+kc] into MR-tall panels (kc x MR)     [per thread]
//         micro-kernel on each MR x NR block of C
//   A kc x NR panel of B stays close (L1/L2) while the MC x kc block of A, packed
//   by the thread that uses it, streams from its L2 past it.
//
// Owned (gemm_owned_blocks): each thread takes a rectangle of C and runs the same
// loops over it alone, packing its own A rows (or reading them in place when its
// columns are few) and B columns: no barriers, for products with few row blocks
// (threads_own_blocks).
//
// Packing absorbs transposes and leading dimensions, so strided views and the
// transposed products of backward passes need no copies.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "common/gemm_shape.h"
#include "cpu/gemm_blocking.h"
#include "cpu/gemm_micro_kernel.h"
#include "cpu/gemm_pack.h"
#include "cpu/thread_scratch.h"

namespace axonic::cpu::AXONIC_ISA {

// gemm_owned_blocks reads A in place (op(A) = A) when a thread's columns span at most
// this many B panels: each element of A then meets few tiles, and packing it cost more
// than it saved (2 threads: 256^3 +5%, 784x128x256 +6%, 1024^3 with 8 panels level).
constexpr int64_t kMaxPanelsForAInPlace = 8;

// A group of B panels a task sweeps is at least this wide when groups are made for
// L2 affinity, so that repacking A for each group costs a few percent at most.
constexpr int64_t kMinGroupPanels = 16;

// Rows of B one thread packs at a time when the threads share B's packing.
constexpr int64_t kPackRowsPerTask = 32;

// One tile of the blocked path: A's panel (packed, or MR rows in place, a_row_step
// apart along unit-stride k) times B's panel (packed, rows NR apart, or in place, rows
// ldb apart). A tile whose columns fit in fewer vectors (the last panel of N = 784 is
// 16 of 64 columns) runs only the vectors it needs, reading B as a direct operand,
// instead of multiplying zero padding.
template <typename T, int MR, int NV, Operand kA, Operand kB>
inline void block_tile(int64_t kc, const T* a_panel, int64_t a_row_step, const T* b_panel,
                       int64_t b_k_step, const TileOutput<T>& out) {
  if constexpr (NV > 1) {
    if (out.cols <= (NV - 1) * VectorOps<T>::lanes)
      return block_tile<T, MR, NV - 1, kA, Operand::direct>(kc, a_panel, a_row_step, b_panel,
                                                             b_k_step, out);
  }
  micro_kernel<T, MR, NV, kA, kB>(kc, a_panel, a_row_step, 1, b_panel, b_k_step, out);
}

// The blocked path with B's packing shared by all threads, in the BLIS loop order
// (see the top of this file).
template <typename T, int NV, Operand kB>
void gemm_shared_blocks(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  constexpr int MR = B::mr, NR = NV * B::lanes;
  const int64_t kc_max = min64(B::kc, s.k);
  const int64_t nc_max = min64(B::nc, s.n);
  T* packed_b = kB == Operand::packed
                    ? thread_scratch<T>(ScratchSlot::gemm_packed_b,
                                        kc_max * ceil_div(nc_max, NR) * NR)
                    : nullptr;
  const bool parallel = fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops);

  run_parallel_if(parallel, [&] {
    const int threads = omp_get_num_threads();
    // Row blocks of at most about MC rows, split as evenly as whole MR tiles allow;
    // when there are more blocks than threads, a multiple of the thread count, so
    // every thread gets the same share (4096 rows in 11 blocks left one thread 13%
    // more work at each K block's barrier).
    const int64_t m_tiles = ceil_div(s.m, MR);
    int64_t m_blocks = ceil_div(s.m, B::mc);
    if (m_blocks > threads) m_blocks = ceil_div(m_blocks, threads) * threads;
    m_blocks = min64(m_blocks, m_tiles);
    // Each thread packs the A block it works on into its own buffer, which then
    // sits in that core's L2 for every B panel the task sweeps.
    T* packed_a = thread_scratch<T>(ScratchSlot::gemm_packed_a,
                                    ceil_div(m_tiles, m_blocks) * MR * kc_max);
    for (int64_t jc = 0; jc < s.n; jc += B::nc) {
      const int64_t nc = min64(B::nc, s.n - jc);
      const int64_t b_panels = ceil_div(nc, NR);
      for (int64_t pc = 0; pc < s.k; pc += B::kc) {
        const int64_t kc = min64(B::kc, s.k - pc);
        const T beta_now = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
        if (kB == Operand::packed && !s.trans_b) {  // threads take slices of B's rows
#pragma omp for schedule(static)
          for (int64_t p0 = 0; p0 < kc; p0 += kPackRowsPerTask)
            pack_row_panels<T, NR>(b + (pc + p0) * s.ldb + jc, s.ldb, nc,
                                   min64(kPackRowsPerTask, kc - p0), kc, packed_b + p0 * NR);
        } else if (kB == Operand::packed) {  // op(B) = Bᵀ: threads take whole panels
#pragma omp for schedule(static)
          for (int64_t jp = 0; jp < b_panels; ++jp)
            pack_panel<T, NR>(b, s.ldb, s.trans_b, jc + jp * NR, int(min64(NR, nc - jp * NR)),
                              pc, kc, packed_b + jp * kc * NR);
        }
        // Tasks: the row blocks, each split into groups of B panels when there are too
        // few blocks to keep every thread busy, and into one group per thread when the
        // groups stay wide (kMinGroupPanels): a thread then mostly sweeps the same group
        // from one row block to the next, and finds its packed panels still in its L2
        // (2 threads, n = 1024-4096: 3-6% faster). A split repacks the A block.
        int64_t n_groups =
            m_blocks >= 2 * threads ? 1 : min64(b_panels, ceil_div(2 * threads, m_blocks));
        if (b_panels >= threads * kMinGroupPanels) n_groups = std::max<int64_t>(n_groups, threads);
        int64_t packed_block = -1;
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t mb = 0; mb < m_blocks; ++mb) {
          for (int64_t ng = 0; ng < n_groups; ++ng) {
            const int64_t row0 = m_tiles * mb / m_blocks * MR;
            const int64_t rows = min64(m_tiles * (mb + 1) / m_blocks * MR, s.m) - row0;
            const int64_t a_panels = ceil_div(rows, MR);
            if (packed_block != mb) {
              for (int64_t ip = 0; ip < a_panels; ++ip)
                pack_panel<T, MR>(a, s.lda, !s.trans_a, row0 + ip * MR,
                                  int(min64(MR, rows - ip * MR)), pc, kc, packed_a + ip * kc * MR);
              packed_block = mb;
            }
            // Groups as even as whole panels allow (13 panels in 4 groups: 3, 3, 3, 4).
            const int64_t jp_end = b_panels * (ng + 1) / n_groups;
            for (int64_t jp = b_panels * ng / n_groups; jp < jp_end; ++jp) {
              const int64_t col = jp * NR;
              const T* b_panel = kB == Operand::packed ? packed_b + jp * kc * NR
                                                       : b + pc * s.ldb + jc + col;
              for (int64_t ip = 0; ip < a_panels; ++ip) {
                const int64_t row = row0 + ip * MR;
                const TileOutput<T> out{c + row * s.ldc + jc + col, s.ldc,
                                        int(min64(MR, s.m - row)), int(min64(NR, nc - col)),
                                        alpha, beta_now};
                block_tile<T, MR, NV, Operand::packed, kB>(kc, packed_a + ip * kc * MR, 0, b_panel,
                                                           kB == Operand::packed ? NR : s.ldb, out);
              }
            }
          }
        }
      }
    }
  });
}

// How gemm_owned_blocks splits C between threads: a grid of `rows` row groups by
// `cols` column groups, one rectangle of C per thread.
struct ThreadGrid {
  int rows, cols;
};

// Up to this depth each element of C takes few flops and writing C, not packing, bounds
// the product; threads then take whole rows of C. Column groups interleave the threads'
// writes within every page of C, where each core's L2 streamer prefetches the lines the
// other is writing: 2 threads, AVX-512, GFLOP/s, column groups -> row groups:
// 256x1x784 (Aᵀ, a batch-1 weight gradient) 11 -> 24, 256x4x1024 46 -> 79, 128x8x1024
// 88 -> 118, 256x32x784 233 -> 262, 1536x16x1536 203 -> 222. At depth 64 it went either
// way (128x64x1024 285 -> 276, 1024x64x1024 296 -> 304).
constexpr int64_t kMaxShallowDepth = 32;

// Whether threads take whole rows of C for a shallow product (kMaxShallowDepth): when
// each gets 8 tiles of rows or more, so that the shares stay even (64 rows on 2 threads,
// 5 and 6 tiles, ran 6% slower than column groups).
template <typename T>
inline bool shallow_by_rows(const GemmShape& s, int threads) {
  return threads > 1 && s.k <= kMaxShallowDepth &&
         ceil_div(s.m, Blocking<T>::mr) >= 8 * int64_t(threads);
}

// Elements of A and B one thread packs per K block, (A rows of its group) x K + K x (B
// columns of its group), over their product: gemm_owned_blocks packs M*K/rows +
// K*N/cols. Shallow products take row groups (shallow_by_rows); the others the grid with
// the least, groups no finer than a tile of rows or a vector of columns, and, while the
// rows can be split instead, no column group narrower than a tile: its tiles would run
// fewer FMA chains (2 threads, AVX-512, 64x96x64 in 2-vector column groups 133 GFLOP/s,
// in row groups 183). Ties (M = N) go to row groups when K fits one K block: column
// groups then write the same cache line of every C row at their boundary (numpy's rows
// start mid-line), which costs more than packing B twice saves (2 threads: 512x128x512
// 290 -> 305, 384^3 296 -> 304); deeper, halving B's packing wins (512^3 330 -> 319 with
// row groups).
template <typename T>
inline ThreadGrid owned_grid(const GemmShape& s, int threads) {
  if (shallow_by_rows<T>(s, threads)) return {threads, 1};
  const int64_t m_tiles = ceil_div(s.m, Blocking<T>::mr);
  const int64_t vectors = ceil_div(s.n, Blocking<T>::lanes);
  const bool rows_can_split = m_tiles >= threads;
  const bool ties_to_rows = s.k < Blocking<T>::kc;
  ThreadGrid best{1, threads};
  double best_cost = -1;
  for (int rows = 1; rows <= threads; ++rows) {
    const int cols = threads / rows;
    if (rows * cols != threads || rows > m_tiles || cols > vectors) continue;
    if (cols > 1 && vectors / cols < Blocking<T>::nv && rows_can_split) continue;
    const double cost = double(s.m) * s.k / rows + double(s.k) * s.n / cols;
    if (best_cost < 0 || cost < best_cost || (ties_to_rows && cost == best_cost))
      best = {rows, cols}, best_cost = cost;
  }
  return best;
}

// Whether threads should each pack what they use (gemm_owned_blocks) rather than
// share B's packing (gemm_shared_blocks). Sharing takes two barriers per K block and
// balances its tasks dynamically; it pays when there are many row blocks, so that the
// barriers are rare against the work and the A blocks are not repacked (2 threads,
// 4096^3: 2% faster than owning). With few row blocks, owning wins: gemm_shared_blocks
// splits B panels into groups and repacks A for each, and waits at its barriers
// for the slowest task (2 threads on this VM: 256^3 +8%, 128x784x256 +9%,
// 64x256x4096 +35%, 1024^3 level). Owning repacks A once per column group and B once
// per row group, so with more threads it must not pack much more than sharing would.
template <typename T>
inline bool threads_own_blocks(const GemmShape& s, int threads) {
  if (shallow_by_rows<T>(s, threads)) return true;  // row groups, packing aside
  const int64_t m_blocks = ceil_div(s.m, Blocking<T>::mc);
  if (m_blocks >= 4 * threads) return false;
  const ThreadGrid grid = owned_grid<T>(s, threads);
  const double owned = double(s.m) * s.k / grid.rows + double(s.k) * s.n / grid.cols;
  const double shared =
      double(s.m) * s.k / min64(threads, m_blocks) + double(s.k) * s.n / threads;
  return owned <= 1.5 * shared;
}

// The blocked path with every thread on its own rectangle of C (owned_grid): it
// packs its rows of A and its columns of B itself and runs every K block over them,
// never waiting for another thread. Within the rectangle, the BLIS loops: NC-wide
// column blocks, KC-deep K blocks, MC-tall row blocks. With one row block each B
// panel is packed right before the tiles that use it, while it is in L2; with more,
// the K block of the thread's B columns is packed once and swept by each row block.
template <typename T, int NV, Operand kB>
void gemm_owned_blocks(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  constexpr int MR = B::mr, L = B::lanes, NR = NV * L;
  const int64_t kc_max = min64(B::kc, s.k);
  const bool parallel = fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops);
  run_parallel_if(parallel, [&] {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const ThreadGrid grid = owned_grid<T>(s, threads);
    const int64_t m_tiles = ceil_div(s.m, MR), vectors = ceil_div(s.n, L);
    const int64_t group_row = t / grid.cols, group_col = t % grid.cols;
    const int64_t row_begin = m_tiles * group_row / grid.rows * MR;
    const int64_t row_end = min64(m_tiles * (group_row + 1) / grid.rows * MR, s.m);
    const int64_t col_begin = vectors * group_col / grid.cols * L;
    const int64_t col_end = min64(vectors * (group_col + 1) / grid.cols * L, s.n);
    // Row blocks of at most MC rows, as even as whole tiles allow.
    const int64_t my_tiles = ceil_div(row_end - row_begin, MR);
    const int64_t row_blocks = ceil_div(row_end - row_begin, B::mc);
    const bool one_row_block = row_blocks <= 1;
    const int64_t nc_max = min64(B::nc, col_end - col_begin);
    const bool a_in_place =
        !s.trans_a && ceil_div(col_end - col_begin, NR) <= kMaxPanelsForAInPlace;
    const int64_t block_tiles = ceil_div(my_tiles, std::max<int64_t>(row_blocks, 1));
    T* packed_a = thread_scratch<T>(ScratchSlot::gemm_packed_a, block_tiles * MR * kc_max);
    // One panel when each is used right after packing; else the thread's K block of B.
    const int64_t b_columns = one_row_block ? NR : ceil_div(nc_max, NR) * NR;
    T* packed_b = kB == Operand::packed
                      ? thread_scratch<T>(ScratchSlot::gemm_packed_b, kc_max * b_columns)
                      : nullptr;
    const int64_t b_k_step = kB == Operand::packed ? NR : s.ldb;  // between B's rows
    for (int64_t jc = col_begin; jc < col_end; jc += B::nc) {
      const int64_t nc = min64(B::nc, col_end - jc);
      for (int64_t pc = 0; pc < s.k; pc += B::kc) {
        const int64_t kc = min64(B::kc, s.k - pc);
        const T beta_now = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
        // With several row blocks the whole K block of the thread's B columns is packed
        // first, row by row where op(B) = B; else each panel right before its tiles.
        const bool packed_by_rows = kB == Operand::packed && !one_row_block && !s.trans_b;
        if (packed_by_rows)
          pack_row_panels<T, NR>(b + pc * s.ldb + jc, s.ldb, nc, kc, kc, packed_b);
        for (int64_t rb = 0; rb < row_blocks; ++rb) {
          const int64_t row0 = row_begin + my_tiles * rb / row_blocks * MR;
          const int64_t row1 = row_begin + my_tiles * (rb + 1) / row_blocks * MR;
          const int64_t rows = min64(row1, row_end) - row0;
          const int64_t a_panels = ceil_div(rows, MR);
          // In place, only a last panel of fewer than MR rows is packed (zero-padded).
          for (int64_t ip = a_in_place ? rows / MR : 0; ip < a_panels; ++ip)
            pack_panel<T, MR>(a, s.lda, !s.trans_a, row0 + ip * MR,
                              int(min64(MR, rows - ip * MR)), pc, kc, packed_a + ip * kc * MR);
          for (int64_t col = 0; col < nc; col += NR) {
            const int cols = int(min64(NR, nc - col));
            const T* b_panel = b + pc * s.ldb + jc + col;
            if (kB == Operand::packed) {
              T* panel = one_row_block ? packed_b : packed_b + col / NR * kc * NR;
              if (one_row_block || (rb == 0 && !packed_by_rows))
                pack_panel<T, NR>(b, s.ldb, s.trans_b, jc + col, cols, pc, kc, panel);
              b_panel = panel;
            }
            for (int64_t ip = 0; ip < a_panels; ++ip) {
              const int64_t row = row0 + ip * MR;
              const TileOutput<T> out{c + row * s.ldc + jc + col, s.ldc,
                                      int(min64(MR, s.m - row)), cols, alpha, beta_now};
              if (a_in_place && out.rows == MR)
                block_tile<T, MR, NV, Operand::direct, kB>(kc, a + row * s.lda + pc, s.lda,
                                                           b_panel, b_k_step, out);
              else
                block_tile<T, MR, NV, Operand::packed, kB>(kc, packed_a + ip * kc * MR, 0,
                                                           b_panel, b_k_step, out);
            }
          }
        }
      }
    }
  });
}

// The blocked product, C = alpha * op(A) @ op(B) + beta * C, for M > small_m and
// N over one vector.
template <typename T>
void gemm_blocked(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  // Few rows: each element of B is used by few tiles, so it is read in place.
  const bool b_in_place = !s.trans_b && s.m <= 4 * B::mr;
  const bool parallel = fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops);
  if (threads_own_blocks<T>(s, parallel ? omp_get_max_threads() : 1)) {
    if (b_in_place) return gemm_owned_blocks<T, B::nv, Operand::direct>(s, alpha, a, b, beta, c);
    return gemm_owned_blocks<T, B::nv, Operand::packed>(s, alpha, a, b, beta, c);
  }
  if (b_in_place) return gemm_shared_blocks<T, B::nv, Operand::direct>(s, alpha, a, b, beta, c);
  return gemm_shared_blocks<T, B::nv, Operand::packed>(s, alpha, a, b, beta, c);
}

}  // namespace axonic::cpu::AXONIC_ISA
