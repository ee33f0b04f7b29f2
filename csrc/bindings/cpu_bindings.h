// Each csrc/bindings/cpu_<family>.cpp defines register_<family>(module), and
// cpu_module.cpp calls them all. Adding a kernel family: one file, one line there.
#pragma once

#include "bindings/array_checks.h"

namespace axonic::bind {

void register_runtime(py::module_& m);
void register_gemm(py::module_& m);
void register_activations(py::module_& m);
void register_softmax(py::module_& m);
void register_peak(py::module_& m);
void register_optimizers(py::module_& m);
void register_memory(py::module_& m);
void register_array_allocator(py::module_& m);
void register_batch_norm(py::module_& m);
void register_dropout(py::module_& m);
void register_pooling(py::module_& m);
void register_conv2d(py::module_& m);
void register_function_apply(py::module_& m);

// call_with_cached_arrays(fn, *args) (cpu_array_allocator.cpp) as a METH_FASTCALL
// function: args[0] is fn; also called by function_apply.
PyObject* call_with_cached_arrays(PyObject* self, PyObject* const* args, Py_ssize_t nargs);

// A METH_FASTCALL function as the PyCFunction a PyMethodDef holds: the signatures differ,
// and the cast through void (*)() says so (-Wcast-function-type).
template <PyObject* (*fn)(PyObject*, PyObject* const*, Py_ssize_t)>
PyCFunction fastcall_function() {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fn));
}

}  // namespace axonic::bind
