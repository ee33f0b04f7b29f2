// axonic._cuda: built when CMake finds nvcc. It links the CUDA runtime
// statically, so importing it never needs a driver; the queries report why no
// device is usable instead of failing, and the kernels raise RuntimeError.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/cuda_bindings.h"
#include "cuda/device_query.h"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "axonic's CUDA module: device queries and the CUDA kernels";
  m.def(
      "device_report",
      [] {
        auto r = axonic::cuda::query_devices();
        return py::make_tuple(r.count, r.reason);
      },
      "(device count, reason it is 0 or '')");
  m.def("runtime_version", &axonic::cuda::runtime_version, "CUDA runtime version, e.g. 13000.");
  m.def("device_name", &axonic::cuda::device_name, py::arg("index"));
  axonic::bind::register_cuda_gemm(m);
  axonic::bind::register_cuda_activations(m);
  axonic::bind::register_cuda_softmax(m);
  axonic::bind::register_cuda_dropout(m);
  axonic::bind::register_cuda_batch_norm(m);
  axonic::bind::register_cuda_optimizers(m);
  axonic::bind::register_cuda_pooling(m);
  axonic::bind::register_cuda_conv2d(m);
}
