// Fused optimizer updates over a list of tensors; contract and formulas in
// optimizer_updates.h, the element loops in optimizer_updates_arch.cpp.
//
// This file shares the work: every tensor is cut into chunks of kChunkElements
// (the last chunk of each tensor may be shorter), and the chunk list is split over
// OpenMP threads in contiguous runs (schedule(static)), so each thread streams
// through neighbouring memory and twenty tensors of mixed sizes balance as well as
// one. Below kParallelElements in total the calling thread does it all: a fork/join
// costs more than updating a few thousand numbers.
#include "cpu/optimizer_updates.h"

#include <algorithm>

#include "common/cpu_features.h"
#include "cpu/optimizer_updates_arch.h"
#include "cpu/parallel_items.h"

namespace axonic::cpu {

namespace {

constexpr int64_t kChunkElements = int64_t{1} << 14;

// The piece [begin, end) of one tensor's buffers.
template <typename T>
ParamSlot<T> slice(const ParamSlot<T>& slot, int64_t begin, int64_t end) {
  ParamSlot<T> piece = slot;
  piece.param += begin;
  piece.grad += begin;
  for (T*& state : piece.state) {
    if (state != nullptr) state += begin;
  }
  piece.n = end - begin;
  return piece;
}

// Runs update(piece) on every chunk of every slot, over threads when the total
// is large enough.
template <typename T, typename Update>
void for_each_chunk(const std::vector<ParamSlot<T>>& slots, const Update& update) {
  std::vector<ParamSlot<T>> chunks;
  int64_t total = 0;
  for (const ParamSlot<T>& slot : slots) {
    total += slot.n;
    for (int64_t begin = 0; begin < slot.n; begin += kChunkElements) {
      chunks.push_back(slice(slot, begin, std::min(slot.n, begin + kChunkElements)));
    }
  }
  const int64_t count = static_cast<int64_t>(chunks.size());
  if (total < kParallelElements) {
    for (const ParamSlot<T>& chunk : chunks) update(chunk);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < count; ++c) update(chunks[c]);
}

template <typename T, typename Options>
using ChunkLoop = void (*)(const Options&, const ParamSlot<T>&);

// The active ISA's loop among this build's (nullptr where the build has none).
// The ISA is read once per call, so one step never mixes two paths.
template <typename T, typename Options>
ChunkLoop<T, Options> active_loop(ChunkLoop<T, Options> generic_loop,
                                  ChunkLoop<T, Options> avx2_loop,
                                  ChunkLoop<T, Options> avx512_loop) {
  switch (active_isa()) {
    case Isa::avx512: return avx512_loop ? avx512_loop : generic_loop;
    case Isa::avx2: return avx2_loop ? avx2_loop : generic_loop;
    default: return generic_loop;
  }
}

template <typename T, typename Options>
void update_all(const Options& options, const std::vector<ParamSlot<T>>& slots,
                ChunkLoop<T, Options> loop) {
  for_each_chunk(slots, [&](const ParamSlot<T>& chunk) { loop(options, chunk); });
}

}  // namespace

#ifdef AXONIC_HAVE_ISA_avx2
#define AXONIC_AVX2_LOOP(loop) &avx2::loop
#else
#define AXONIC_AVX2_LOOP(loop) nullptr
#endif
#ifdef AXONIC_HAVE_ISA_avx512
#define AXONIC_AVX512_LOOP(loop) &avx512::loop
#else
#define AXONIC_AVX512_LOOP(loop) nullptr
#endif
// `kind`_update<T>: the active ISA's `kind`_update_chunk<T> over every chunk.
#define AXONIC_DEFINE_UPDATE(kind, Options)                                                  \
  template <typename T>                                                                      \
  void kind##_update(const Options& options, const std::vector<ParamSlot<T>>& slots) {       \
    update_all(options, slots,                                                               \
               active_loop<T, Options>(&generic::kind##_update_chunk<T>,                     \
                                       AXONIC_AVX2_LOOP(kind##_update_chunk<T>),             \
                                       AXONIC_AVX512_LOOP(kind##_update_chunk<T>)));         \
  }                                                                                          \
  template void kind##_update<float>(const Options&, const std::vector<ParamSlot<float>>&);  \
  template void kind##_update<double>(const Options&, const std::vector<ParamSlot<double>>&);

AXONIC_DEFINE_UPDATE(sgd, SgdOptions)
AXONIC_DEFINE_UPDATE(adagrad, AdagradOptions)
AXONIC_DEFINE_UPDATE(rmsprop, RmspropOptions)
AXONIC_DEFINE_UPDATE(adadelta, AdadeltaOptions)
AXONIC_DEFINE_UPDATE(adam, AdamOptions)
AXONIC_DEFINE_UPDATE(adamax, AdamaxOptions)
AXONIC_DEFINE_UPDATE(nadam, NadamOptions)

}  // namespace axonic::cpu
