// The binding families of axonic._cuda; cuda_module.cpp registers each. Every kernel
// binding takes CUDA arrays (cuda_arrays.h) with the names, argument order and
// defaults of the CPU module's binding, plus a keyword `stream` (the cudaStream_t as
// an integer) it launches on; backends/cuda.py passes CuPy's current stream.
#pragma once

#include <pybind11/pybind11.h>

namespace axonic::bind {

namespace py = pybind11;

void register_cuda_gemm(py::module_& m);
void register_cuda_activations(py::module_& m);
void register_cuda_softmax(py::module_& m);
void register_cuda_dropout(py::module_& m);
void register_cuda_batch_norm(py::module_& m);
void register_cuda_optimizers(py::module_& m);
void register_cuda_pooling(py::module_& m);
void register_cuda_conv2d(py::module_& m);

}  // namespace axonic::bind
