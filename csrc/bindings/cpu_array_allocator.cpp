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

PyObject* handler_capsule = nullptr;  // block_cache_handler's capsule, held for good

// The exception being raised, taken out of the interpreter on construction so other
// C API calls can run; raise() puts it back (replacing any raised since).
class PendingError {
 public:
#if PY_VERSION_HEX >= 0x030C0000  // 3.12 deprecates PyErr_Fetch / PyErr_Restore
  PendingError() : exception_(PyErr_GetRaisedException()) {}
  bool pending() const { return exception_ != nullptr; }
  void raise() { PyErr_SetRaisedException(exception_); }

 private:
  PyObject* exception_;
#else
  PendingError() { PyErr_Fetch(&type_, &value_, &traceback_); }
  bool pending() const { return type_ != nullptr; }
  void raise() { PyErr_Restore(type_, value_, traceback_); }

 private:
  PyObject *type_, *value_, *traceback_;
#endif
};

PyMethodDef call_with_cached_arrays_def = {
    "call_with_cached_arrays", fastcall_function<call_with_cached_arrays>(), METH_FASTCALL,
    "call_with_cached_arrays(fn, *args): fn(*args) with the block cache as NumPy's\n"
    "allocator; the previous allocator is restored afterwards, whether fn returns or raises."};

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

// call_with_cached_arrays(fn, *args): fn(*args) with the block cache as NumPy's
// allocator, restoring the previous one whether fn returns or raises. One native call
// where the Python form took two native allocator swaps and a frame: 0.21 us on top
// of the call instead of 0.32, paid by every autograd operation.
PyObject* call_with_cached_arrays(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs < 1) {
    PyErr_SetString(PyExc_TypeError, "call_with_cached_arrays expects fn and its arguments");
    return nullptr;
  }
  PyObject* previous = PyDataMem_SetHandler(handler_capsule);
  if (previous == nullptr) return nullptr;
  PyObject* result = PyObject_Vectorcall(args[0], args + 1, nargs - 1, nullptr);
  // The allocator is restored with fn's exception, if any, set aside: the C API must
  // not run with one pending.
  PendingError fn_error;
  PyObject* ours = PyDataMem_SetHandler(previous);
  Py_DECREF(previous);
  if (ours == nullptr) {  // restoring failed: fn's own error, if any, is the one reported
    if (fn_error.pending()) fn_error.raise();
    Py_XDECREF(result);
    return nullptr;
  }
  Py_DECREF(ours);
  if (fn_error.pending()) fn_error.raise();
  return result;
}

void register_array_allocator(py::module_& m) {
  if (_import_array() < 0) throw py::error_already_set();
  host_cache = new cpu::BlockCache(default_limit_bytes());
  m.attr("block_cache_handler") = py::capsule(&block_cache_handler, kCapsuleName);
  handler_capsule = py::object(m.attr("block_cache_handler")).release().ptr();
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
  // A plain CPython function: pybind11's argument packing would cost as much again.
  m.attr("call_with_cached_arrays") =
      py::reinterpret_steal<py::object>(PyCFunction_NewEx(&call_with_cached_arrays_def, nullptr, nullptr));
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
