// The Python bindings of batch normalization, written once for axonic._cpu
// (cpu_batch_norm.cpp) and axonic._cuda (cuda_batch_norm.cpp): the names, argument
// order and defaults of backends/reference_batch_norm.py, and one set of checks, over
// the module's array type. x is (N, C, *spatial) viewed as (N, C, S); every
// per-channel array is (C,) of x's dtype; weight, bias and the running buffers may be
// None where batch_norm.h allows null.
//
// A module describes itself by a Device type:
//   using Array = FloatArray / DeviceArray;
//   static Array array(py::handle obj, const char* name, bool writable);
//   template <typename T, typename... A> static void forward_train(A...);  likewise
//       forward_eval and backward: the module's kernels, called with the arguments of
//       cpu/batch_norm.h and then the module's Stream arguments converted by
//   static auto stream(Stream)   (only where the module has a Stream argument).
// define_batch_norm<Device, Stream...>(m, extra...) then adds one trailing Python
// argument per Stream type, declared by extra (py::arg("stream") = 0).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/array_checks.h"
#include "common/checks.h"

namespace axonic::bind {

namespace batch_norm_checks {

struct ChannelView {
  int64_t n, c, s;
};

template <typename Array>
ChannelView channel_view(const Array& x, const char* name) {
  AXONIC_CHECK(x.ndim() >= 2, "batch_norm expects ", name,
               " of shape (N, C) or (N, C, *spatial) (ndim >= 2), got shape ", x.shape_string());
  int64_t s = 1;
  for (int64_t i = 2; i < x.ndim(); ++i) s *= x.shape[i];
  return {x.shape[0], x.shape[1], s};
}

// A (C,) array of x's dtype, or nullopt for None when allowed.
template <typename Device, typename Array = typename Device::Array>
std::optional<Array> channel_array(py::handle obj, const char* name, const Array& x,
                                   int64_t channels, bool writable, bool optional) {
  if (obj.is_none()) {
    AXONIC_CHECK(optional, name, " must be an array of shape (", channels, ",), got None");
    return std::nullopt;
  }
  Array a = Device::array(obj, name, writable);
  require_same_dtype(x, "x", a, name);
  AXONIC_CHECK(a.ndim() == 1 && a.shape[0] == channels, name, " must have shape (", channels,
               ",) (one value per channel of x, shape ", x.shape_string(), "), got shape ",
               a.shape_string());
  return a;
}

// x and an output of x's shape and dtype.
template <typename Device, typename Array = typename Device::Array>
std::optional<Array> same_as_x(py::handle obj, const char* name, const Array& x, bool writable) {
  Array a = Device::array(obj, name, writable);
  require_same_dtype(x, "x", a, name);
  require_same_shape(x, "x", a, name);
  return a;
}

template <typename T, typename Array>
T* ptr_or_null(const std::optional<Array>& a) {
  return a ? a->template ptr<T>() : nullptr;
}

// Required arrays are held in std::optional too, so that one list can name every
// array of a call, present or None.
template <typename Array>
using Named = std::pair<const std::optional<Array>*, const char*>;

// Every output is disjoint from every input and from every other output.
template <typename Array>
void require_disjoint(const std::vector<Named<Array>>& outputs,
                      const std::vector<Named<Array>>& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [out, out_name] = outputs[i];
    if (!*out) continue;
    for (const auto& [in, in_name] : inputs)
      if (*in) require_no_overlap(**out, out_name, **in, in_name);
    for (size_t j = i + 1; j < outputs.size(); ++j) {
      const auto& [other, other_name] = outputs[j];
      if (*other) require_no_overlap(**out, out_name, **other, other_name);
    }
  }
}

inline void require_eps(double eps) {
  AXONIC_CHECK(eps >= 0.0, "batch_norm expects eps >= 0, got ", eps);
}

inline void require_training_values(const ChannelView& v, const std::string& shape) {
  AXONIC_CHECK(v.n * v.s > 1,
               "Expected more than 1 value per channel when training, got input size ", shape);
}

}  // namespace batch_norm_checks

template <typename Device, typename... Stream, typename... Extra>
void define_batch_norm(py::module_& m, const Extra&... extra) {
  using namespace batch_norm_checks;
  using Array = typename Device::Array;
  using Arrays = std::vector<Named<Array>>;

  m.def(
      "batch_norm_forward_train",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj,
         py::handle running_mean_obj, py::handle running_var_obj, py::handle out_obj,
         py::handle save_mean_obj, py::handle save_invstd_obj, double momentum, double eps,
         Stream... stream) {
        const std::optional<Array> x = Device::array(x_obj, "x", false);
        const ChannelView v = channel_view(*x, "x");
        const auto out = same_as_x<Device>(out_obj, "out", *x, /*writable=*/true);
        require_training_values(v, x->shape_string());
        require_eps(eps);
        const auto weight = channel_array<Device>(weight_obj, "weight", *x, v.c, false, true);
        const auto bias = channel_array<Device>(bias_obj, "bias", *x, v.c, false, true);
        const auto running_mean =
            channel_array<Device>(running_mean_obj, "running_mean", *x, v.c, true, true);
        const auto running_var =
            channel_array<Device>(running_var_obj, "running_var", *x, v.c, true, true);
        const auto save_mean =
            channel_array<Device>(save_mean_obj, "save_mean", *x, v.c, true, false);
        const auto save_invstd =
            channel_array<Device>(save_invstd_obj, "save_invstd", *x, v.c, true, false);
        require_disjoint(Arrays{{&out, "out"}, {&running_mean, "running_mean"},
                                {&running_var, "running_var"}, {&save_mean, "save_mean"},
                                {&save_invstd, "save_invstd"}},
                         Arrays{{&x, "x"}, {&weight, "weight"}, {&bias, "bias"}});
        dispatch_float(x->dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* px = x->template ptr<T>();
          const T* pw = ptr_or_null<T>(weight);
          const T* pb = ptr_or_null<T>(bias);
          T* prm = ptr_or_null<T>(running_mean);
          T* prv = ptr_or_null<T>(running_var);
          T* pout = out->template ptr<T>();
          T* psm = save_mean->template ptr<T>();
          T* psi = save_invstd->template ptr<T>();
          py::gil_scoped_release release;
          Device::template forward_train<T>(px, pw, pb, prm, prv, pout, psm, psi, v.n, v.c, v.s,
                                            momentum, eps, Device::stream(stream)...);
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("out"), py::arg("save_mean"), py::arg("save_invstd"),
      py::arg("momentum") = 0.1, py::arg("eps") = 1e-5, extra...,
      "Training-mode batch norm of x (N, C, *spatial) with per-channel batch statistics\n"
      "over N and the spatial axes (N * prod(spatial) > 1). Writes out (x's shape),\n"
      "save_mean and save_invstd = 1/sqrt(biased var + eps) (C,), and updates running_mean /\n"
      "running_var (C,) in place: running = (1 - momentum) running + momentum stat, with the\n"
      "unbiased variance. weight, bias and the running buffers may be None.");

  m.def(
      "batch_norm_forward_eval",
      [](py::handle x_obj, py::handle weight_obj, py::handle bias_obj,
         py::handle running_mean_obj, py::handle running_var_obj, py::handle out_obj,
         double eps, Stream... stream) {
        const std::optional<Array> x = Device::array(x_obj, "x", false);
        const ChannelView v = channel_view(*x, "x");
        const auto out = same_as_x<Device>(out_obj, "out", *x, /*writable=*/true);
        require_eps(eps);
        const auto weight = channel_array<Device>(weight_obj, "weight", *x, v.c, false, true);
        const auto bias = channel_array<Device>(bias_obj, "bias", *x, v.c, false, true);
        const auto running_mean =
            channel_array<Device>(running_mean_obj, "running_mean", *x, v.c, false, false);
        const auto running_var =
            channel_array<Device>(running_var_obj, "running_var", *x, v.c, false, false);
        require_disjoint(Arrays{{&out, "out"}},
                         Arrays{{&x, "x"}, {&weight, "weight"}, {&bias, "bias"},
                                {&running_mean, "running_mean"}, {&running_var, "running_var"}});
        dispatch_float(x->dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* px = x->template ptr<T>();
          const T* pw = ptr_or_null<T>(weight);
          const T* pb = ptr_or_null<T>(bias);
          const T* prm = running_mean->template ptr<T>();
          const T* prv = running_var->template ptr<T>();
          T* pout = out->template ptr<T>();
          py::gil_scoped_release release;
          Device::template forward_eval<T>(px, pw, pb, prm, prv, pout, v.n, v.c, v.s, eps,
                                           Device::stream(stream)...);
        });
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"),
      py::arg("running_var"), py::arg("out"), py::arg("eps") = 1e-5, extra...,
      "Evaluation-mode batch norm: out = (x - running_mean) / sqrt(running_var + eps)\n"
      "* weight + bias per channel. weight and bias may be None.");

  m.def(
      "batch_norm_backward",
      [](py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj,
         py::handle save_mean_obj, py::handle save_invstd_obj, py::handle grad_in_obj,
         py::handle grad_weight_obj, py::handle grad_bias_obj, Stream... stream) {
        const std::optional<Array> x = Device::array(x_obj, "x", false);
        const ChannelView v = channel_view(*x, "x");
        const auto grad_out = same_as_x<Device>(grad_out_obj, "grad_out", *x, false);
        require_training_values(v, x->shape_string());
        const auto weight = channel_array<Device>(weight_obj, "weight", *x, v.c, false, true);
        const auto save_mean =
            channel_array<Device>(save_mean_obj, "save_mean", *x, v.c, false, false);
        const auto save_invstd =
            channel_array<Device>(save_invstd_obj, "save_invstd", *x, v.c, false, false);
        std::optional<Array> grad_in;
        if (!grad_in_obj.is_none())
          grad_in = same_as_x<Device>(grad_in_obj, "grad_in", *x, /*writable=*/true);
        const auto grad_weight =
            channel_array<Device>(grad_weight_obj, "grad_weight", *x, v.c, true, true);
        const auto grad_bias =
            channel_array<Device>(grad_bias_obj, "grad_bias", *x, v.c, true, true);
        require_disjoint(Arrays{{&grad_in, "grad_in"}, {&grad_weight, "grad_weight"},
                                {&grad_bias, "grad_bias"}},
                         Arrays{{&grad_out, "grad_out"}, {&x, "x"}, {&weight, "weight"},
                                {&save_mean, "save_mean"}, {&save_invstd, "save_invstd"}});
        dispatch_float(x->dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* pg = grad_out->template ptr<T>();
          const T* px = x->template ptr<T>();
          const T* pw = ptr_or_null<T>(weight);
          const T* psm = save_mean->template ptr<T>();
          const T* psi = save_invstd->template ptr<T>();
          T* pgi = ptr_or_null<T>(grad_in);
          T* pgw = ptr_or_null<T>(grad_weight);
          T* pgb = ptr_or_null<T>(grad_bias);
          py::gil_scoped_release release;
          Device::template backward<T>(pg, px, pw, psm, psi, pgi, pgw, pgb, v.n, v.c, v.s,
                                       Device::stream(stream)...);
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weight"), py::arg("save_mean"),
      py::arg("save_invstd"), py::arg("grad_in"), py::arg("grad_weight"), py::arg("grad_bias"),
      extra...,
      "Gradients of the training-mode forward from its saved mean and invstd. Writes\n"
      "grad_in (x's shape), grad_weight = sum(g xhat) and grad_bias = sum(g) (C,); any of\n"
      "the three may be None to skip it. weight may be None (affine=False).");
}

}  // namespace axonic::bind
