// Caching allocator for large host blocks; policy in block_cache.h.
#include "cpu/block_cache.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace axonic::cpu {

namespace {

constexpr size_t kAlignment = 64;                     // a cache line, a zmm register
constexpr size_t kHugePage = size_t{2} << 20;         // x86-64 transparent huge page
constexpr size_t kHugePageFrom = size_t{4} << 20;     // NumPy advises huge pages from here

size_t round_up(size_t bytes, size_t multiple) {
  return (bytes + multiple - 1) / multiple * multiple;
}

// A fresh block of exactly `capacity` bytes (a multiple of its alignment).
void* allocate_new(size_t capacity) {
  const size_t alignment = capacity >= kHugePageFrom ? kHugePage : kAlignment;
  void* block = std::aligned_alloc(alignment, capacity);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (block != nullptr && alignment == kHugePage) madvise(block, capacity, MADV_HUGEPAGE);
#endif
  return block;
}

size_t capacity_for(size_t bytes) {
  if (bytes == 0) bytes = 1;
  return round_up(bytes, bytes >= kHugePageFrom ? kHugePage : kAlignment);
}

}  // namespace

void* BlockCache::take_cached(size_t bytes) {
  // Any block up to what a new one would be, or up to 1.25x the request.
  const size_t largest = std::max(capacity_for(bytes), bytes + bytes / 4);
  auto it = free_blocks_.lower_bound(bytes);
  if (it == free_blocks_.end() || it->first > largest) return nullptr;
  void* block = it->second;
  cached_bytes_ -= it->first;
  in_use_bytes_ += it->first;
  free_blocks_.erase(it);
  ++hits_;
  return block;
}

void BlockCache::trim_to(size_t limit_bytes) {
  // Largest blocks first: the fewest frees to get under the limit.
  while (cached_bytes_ > limit_bytes && !free_blocks_.empty()) {
    auto last = std::prev(free_blocks_.end());
    cached_bytes_ -= last->first;
    capacity_of_.erase(last->second);
    std::free(last->second);
    free_blocks_.erase(last);
  }
}

void* BlockCache::allocate(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (void* block = take_cached(bytes)) return block;
  }
  const size_t capacity = capacity_for(bytes);
  void* block = allocate_new(capacity);
  if (block == nullptr) {  // memory is short: give back what the cache holds, once
    empty();
    block = allocate_new(capacity);
    if (block == nullptr) return nullptr;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_of_.emplace(block, capacity);
  in_use_bytes_ += capacity;
  ++misses_;
  return block;
}

bool BlockCache::release(void* block) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = capacity_of_.find(block);
  if (it == capacity_of_.end()) return false;
  const size_t capacity = it->second;
  in_use_bytes_ -= capacity;
  if (cached_bytes_ + capacity > limit_bytes_) {
    capacity_of_.erase(it);
    std::free(block);
  } else {
    cached_bytes_ += capacity;
    free_blocks_.emplace(capacity, block);
  }
  return true;
}

size_t BlockCache::capacity(void* block) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = capacity_of_.find(block);
  return it == capacity_of_.end() ? 0 : it->second;
}

void BlockCache::empty() {
  std::lock_guard<std::mutex> lock(mutex_);
  trim_to(0);
}

void BlockCache::set_limit(size_t limit_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  limit_bytes_ = limit_bytes;
  trim_to(limit_bytes);
}

BlockCacheStats BlockCache::stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {in_use_bytes_, cached_bytes_, limit_bytes_, capacity_of_.size(), hits_, misses_};
}

}  // namespace axonic::cpu
