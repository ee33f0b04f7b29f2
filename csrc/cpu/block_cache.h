// A caching allocator for large host blocks: freed blocks are kept and handed out
// again instead of going back to the operating system.
//
// Why: a training step allocates the same activation and gradient arrays every
// step. glibc serves blocks of more than a few hundred KiB with mmap (or trims
// them off the top of the heap when freed), so each step maps fresh pages and
// the kernel zero-fills them one 4 KiB page fault at a time: on a LeNet step that
// was ~5,600 faults and more system time than the convolutions. Keeping the
// blocks makes every step after the first fault-free, as CuPy's memory pool does
// for CUDA arrays. The binding installs this as NumPy's allocator inside axonic
// operations (bindings/cpu_array_allocator.cpp).
//
// Policy: a request takes the smallest free block whose capacity is at least the
// request and at most 1.25x it (best fit, bounded waste); otherwise a new block is
// allocated, 64-byte aligned (2 MiB aligned, with transparent huge pages advised,
// from 4 MiB up, as NumPy's own allocator advises). Released blocks are kept while
// the free bytes stay within the limit; past it they are freed at once.
// Thread-safe (one mutex); the operations are O(log blocks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace axonic::cpu {

struct BlockCacheStats {
  size_t in_use_bytes;   // capacity of blocks handed out and not yet released
  size_t cached_bytes;   // capacity of free blocks kept for reuse
  size_t limit_bytes;    // most free bytes kept
  size_t block_count;    // blocks in use + blocks cached
  uint64_t hits;         // requests served from the cache
  uint64_t misses;       // requests that allocated a new block
};

class BlockCache {
 public:
  explicit BlockCache(size_t limit_bytes) : limit_bytes_(limit_bytes) {}
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of at least `bytes` bytes, or nullptr when memory is exhausted (after
  // freeing the cache and trying once more).
  void* allocate(size_t bytes);
  // Takes back a block from allocate(); false (and nothing done) for any other pointer.
  bool release(void* block);
  // The capacity of a block from allocate() (0 for any other pointer).
  size_t capacity(void* block);
  // Frees every cached block (blocks in use are untouched).
  void empty();
  // Sets the most free bytes kept, freeing cached blocks beyond it.
  void set_limit(size_t limit_bytes);
  BlockCacheStats stats();

 private:
  void* take_cached(size_t bytes);     // mutex held
  void trim_to(size_t limit_bytes);    // mutex held

  std::mutex mutex_;
  std::multimap<size_t, void*> free_blocks_;          // capacity -> block
  std::unordered_map<void*, size_t> capacity_of_;     // every live block -> capacity
  size_t in_use_bytes_ = 0, cached_bytes_ = 0, limit_bytes_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace axonic::cpu
