// NumPy's data allocator backed by the host block cache (csrc/cpu/block_cache.h).
//
// NumPy (>= 1.22, NEP 49) lets a library swap the functions that allocate array
// data, per thread and async context (a context variable). axonic.memory installs
// this handler around every autograd operation, so the activations and gradients
// of a training step come back from the cache on the next step instead of being
// mapped and zero-filled afresh. Each array remembers the handler that allocated
// it, so an array allocated here returns its block to the cache wherever it dies.
//
// Blocks under kCachedFrom bytes go to malloc (glibc's bins already reuse those).
// The cache keeps at most AXONIC_CPU_CACHE_MB MiB of free blocks (default: a
// quarter of physical memory; 0 keeps none).
#define NPY_NO_DEPRECATED_API NPY_1_23_API_VERSION
#define NPY_TARGET_VERSION NPY_1_23_API_VERSION

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "common/environment.h"
#include "cpu/block_cache.h"

#include <numpy/arrayobject.h>

namespace axonic::bind {

namespace {

constexpr size_t kCachedFrom = size_t{64} << 10;
constexpr char kCapsuleName[] = "mem_handler";  // the name NumPy requires

size_t default_limit_bytes() {
  if (auto mib = integer_variable("AXONIC_CPU_CACHE_MB", 0, int64_t{1} << 40,
                                  "MiB of freed arrays axonic keeps for reuse"))
    return static_cast<size_t>(*mib) << 20;
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return size_t{1} << 30;
  return static_cast<size_t>(pages) * static_cast<size_t>(page_size) / 4;
}

// Never destroyed: arrays can be freed during interpreter teardown, after static
// destructors would have run.
cpu::BlockCache* host_cache = nullptr;

void* cached_malloc(void*, size_t size) {
  return size < kCachedFrom ? std::malloc(size) : host_cache->allocate(size);
}

void* cached_calloc(void*, size_t count, size_t element_size) {
  if (element_size != 0 && count > SIZE_MAX / element_size) return nullptr;
  const size_t size = count * element_size;
  if (size < kCachedFrom) return std::calloc(count, element_size);
  void* block = host_cache->allocate(size);
  if (block != nullptr) std::memset(block, 0, size);  // a reused block holds old data
  return block;
}

// A malloc block stays a malloc block (its old size is unknown here); a cache
// block keeps its place while it is large enough and moves to a bigger one if not.
void* cached_realloc(void*, void* block, size_t new_size) {
  if (block == nullptr) return cached_malloc(nullptr, new_size);
  const size_t capacity = host_cache->capacity(block);
  if (capacity == 0) return std::realloc(block, new_size);
  if (new_size <= capacity) return block;
  void* moved = cached_malloc(nullptr, new_size);
  if (moved == nullptr) return nullptr;  // the old block stays valid, as realloc's does
  std::memcpy(moved, block, capacity);
  host_cache->release(block);
  return moved;
}

void cached_free(void*, void* block, size_t) {
  if (!host_cache->release(block)) std::free(block);
}

PyDataMem_Handler block_cache_handler = {
    "axonic_block_cache", 1, {nullptr, cached_malloc, cached_calloc, cached_realloc, cached_free}};

py::dict stats_dict(const cpu::BlockCacheStats& s) {
  py::dict d;
  d["in_use_bytes"] = s.in_use_bytes;
  d["cached_bytes"] = s.cached_bytes;
  d["limit_bytes"] = s.limit_bytes;
  d["blocks"] = s.block_count;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  return d;
}

}  // namespace

void register_array_allocator(py::module_& m) {
  if (_import_array() < 0) throw py::error_already_set();
  host_cache = new cpu::BlockCache(default_limit_bytes());
  m.attr("block_cache_handler") = py::capsule(&block_cache_handler, kCapsuleName);
  m.def(
      "swap_array_allocator",
      [](py::object handler) {
        PyObject* raw = nullptr;  // None: NumPy's default allocator
        if (!handler.is_none()) {
          if (!PyCapsule_IsValid(handler.ptr(), kCapsuleName))
            throw py::type_error(concat("swap_array_allocator expects None or a NumPy '",
                                        kCapsuleName, "' capsule, got ",
                                        std::string(py::str(py::type::of(handler)))));
          raw = handler.ptr();
        }
        PyObject* previous = PyDataMem_SetHandler(raw);
        if (previous == nullptr) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(previous);
      },
      py::arg("handler"),
      "Makes `handler` (a NumPy 'mem_handler' capsule, or None for NumPy's default) the\n"
      "allocator of new arrays in this context; returns the one it replaces.");
  m.def(
      "block_cache_stats", [] { return stats_dict(host_cache->stats()); },
      "The host block cache's counters: in_use_bytes, cached_bytes, limit_bytes, blocks,\n"
      "hits, misses.");
  m.def(
      "block_cache_empty", [] { host_cache->empty(); },
      "Frees every cached block (arrays still alive keep theirs).");
  m.def(
      "block_cache_set_limit",
      [](int64_t limit_bytes) {
        AXONIC_CHECK(limit_bytes >= 0, "the cache limit must be >= 0 bytes, got ", limit_bytes);
        host_cache->set_limit(static_cast<size_t>(limit_bytes));
      },
      py::arg("limit_bytes"), "Sets the most bytes of free blocks kept (0 keeps none).");
}

}  // namespace axonic::bind
