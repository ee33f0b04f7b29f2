#include "cpu/thread_scratch.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cstdlib>
#include <new>

namespace axonic::cpu {

namespace {

struct Buffer {
  void* data = nullptr;
  size_t bytes = 0;
  ~Buffer() { std::free(data); }
};

}  // namespace

void* thread_scratch(ScratchSlot slot, size_t bytes) {
  thread_local Buffer buffers[static_cast<int>(ScratchSlot::count)];
  Buffer& buffer = buffers[static_cast<int>(slot)];
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes > buffer.bytes) {
    const size_t align = bytes >= kHuge ? kHuge : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    std::free(buffer.data);
    buffer.data = std::aligned_alloc(align, rounded);
    buffer.bytes = buffer.data ? rounded : 0;
    if (!buffer.data) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (align == kHuge) madvise(buffer.data, rounded, MADV_HUGEPAGE);
#endif
  }
  return buffer.data;
}

}  // namespace axonic::cpu
